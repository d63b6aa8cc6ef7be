/**
 * An Express app and a Fastify app on one session backend, for the Express interop tests: Express
 * with express-session on a store of an Express library (connect-redis, connect-pg-simple,
 * express-mysql-session, connect-memcached), Fastify with @fastify/session on one of ours. Both
 * use express-session's cookie (`connect.sid`, signed `s:<sid>.<signature>` with the same secret)
 * and have the same routes:
 *
 * - `POST /login/:user`: a new session with `user`, `views: 0` and `note`, then `{ ok: true }`;
 * - `GET /me`: reads the session: `{ user, views, note, by }`, `by` being `express` or `fastify`;
 * - `POST /visit`: adds one to `views`, then answers as `GET /me`;
 * - `POST /logout`: ends the session, then 204.
 *
 * Without a session, `/me` and `/visit` answer 401 `{ user: null }`. An error on the Express side
 * answers 500 `{ error: <its message> }`. Both apps listen on loopback and close when the test ends.
 *
 * The checks the tests share are here too: `sessionsCross()` (sessions cross both ways),
 * `logoutsCross()` (logouts do too) and `sqlSessionsCross()` (both, and what each side's rows hold).
 *
 * ```ts
 * const modules = await importUntyped(t, ['express', 'express-session', 'connect-redis'])
 * if (modules === null) return // missing: skipped (or failed with CI=true)
 * const [{ default: express }, { default: session }, { RedisStore: ConnectRedis }] = modules
 * const { call } = await interopApps(t, { express, session, expressStore: new ConnectRedis({ client }), fastifyStore: store })
 * const { ada, bob } = await sessionsCross(t, call)
 * await logoutsCross(t, call, ada, bob)
 * ```
 */
import { once } from 'node:events'
import type { AddressInfo, Server } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import type { Test } from 'tap'
import { listen } from './app.js'
import { unavailable } from './services.js'

declare module 'fastify' {
  interface Session { user?: string, views?: number, note?: string }
}

/** The secret both apps sign their cookie with. */
const SECRET = 'a secret of at least thirty-two characters, shared'

/** The cookie's lifetime on both sides, in milliseconds. */
export const MAX_AGE = 3_600_000

/** What each login writes next to the user: text that JSON and SQL must carry as it is. */
export const NOTE = 'zoë 🍪 "quoted"'

/** A cookie as both sides send it: `connect.sid=s:<sid>.<HMAC-SHA256, base64 without padding>`, once URL-decoded. */
export const SIGNED = /^connect\.sid=s:[\w-]+\.[A-Za-z0-9+/]{43}$/

/** The session id in a `connect.sid=...` pair (Express URL-encodes it, Fastify only where needed). */
export const sidOf = (cookie: string): string => decodeURIComponent(cookie).replace(/^connect\.sid=s:/, '').replace(/\.[^.]*$/, '')

/**
 * Imports `names`, devDependencies that ship no types this project installs (so their exports are
 * `any`). When one is missing, applies the unavailable-service policy and returns `null`.
 */
export async function importUntyped (t: Test, names: string[]): Promise<any[] | null> {
  const loaded = await Promise.all(names.map(async (name): Promise<any> => await import(name))).catch((err: Error) => err)
  /* c8 ignore next - only when a devDependency of the Express interop tests is missing */
  if (loaded instanceof Error) return unavailable(t, `express interop needs the devDependencies ${names.join(', ')}: ${loaded.message}`)
  return loaded
}

/** What an app answered. */
export interface Reply {
  status: number
  /** The JSON body, or `null` when there is none. */
  body: unknown
  /** The `connect.sid=...` pair of the Set-Cookie, if one came. */
  cookie: string | undefined
  /** The Set-Cookie's Expires in milliseconds since the epoch, if one came. */
  expires: number | undefined
}

/** One request to `origin`, with `cookie` when given. */
export async function callAt (origin: string, method: string, path: string, cookie?: string): Promise<Reply> {
  const res = await fetch(origin + path, { method, headers: cookie === undefined ? {} : { cookie } })
  const text = await res.text()
  const header = res.headers.get('set-cookie') ?? undefined
  const expires = /;\s*Expires=([^;]+)/i.exec(header ?? '')?.[1]
  return {
    status: res.status,
    body: text === '' ? null : JSON.parse(text),
    cookie: header?.split(';')[0],
    expires: expires === undefined ? undefined : Date.parse(expires)
  }
}

/** Starts the Fastify app on `store` (closed when the test ends) and resolves to its origin. */
export async function fastifyApp (t: Test, store: fastifySession.SessionStore): Promise<string> {
  const fastify = Fastify()
  await fastify.register(fastifyCookie)
  await fastify.register(fastifySession, {
    store,
    secret: SECRET,
    cookieName: 'connect.sid',
    cookiePrefix: 's:',
    saveUninitialized: false,
    rolling: true,
    cookie: { secure: false, maxAge: MAX_AGE }
  })
  const signedIn = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.session.get('user') === undefined) await reply.code(401).send({ user: null })
  }
  const me = (req: FastifyRequest): object =>
    ({ user: req.session.get('user'), views: req.session.get('views'), note: req.session.get('note'), by: 'fastify' })
  fastify.post<{ Params: { user: string } }>('/login/:user', async (req) => {
    await req.session.regenerate()
    req.session.set('user', req.params.user)
    req.session.set('views', 0)
    req.session.set('note', NOTE)
    return { ok: true }
  })
  fastify.get('/me', { preHandler: signedIn }, async (req) => me(req))
  fastify.post('/visit', { preHandler: signedIn }, async (req) => {
    req.session.set('views', (req.session.get('views') as number) + 1)
    return me(req)
  })
  fastify.post('/logout', async (req, reply) => {
    await req.session.destroy()
    return await reply.code(204).send()
  })
  return (await listen(t, fastify)).origin
}

/** Starts the Express app on `store` (closed when the test ends) and resolves to its origin. */
async function expressApp (t: Test, express: any, session: any, store: unknown): Promise<string> {
  const app = express()
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }))
  const signedIn = (req: any, res: any, next: () => void): void => {
    if (req.session.user === undefined) res.status(401).json({ user: null })
    else next()
  }
  const me = (req: any, res: any): void => {
    res.json({ user: req.session.user, views: req.session.views, note: req.session.note, by: 'express' })
  }
  app.post('/login/:user', (req: any, res: any) => {
    Object.assign(req.session, { user: req.params.user, views: 0, note: NOTE })
    res.json({ ok: true })
  })
  app.get('/me', signedIn, me)
  app.post('/visit', signedIn, (req: any, res: any) => { req.session.views += 1; me(req, res) })
  app.post('/logout', (req: any, res: any) => { req.session.destroy(() => res.status(204).end()) })
  app.use((err: Error, req: any, res: any, next: unknown) => { res.status(500).json({ error: err.message }) })
  const server: Server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** What `interopApps()` builds the two apps from. */
export interface InteropOptions {
  /** The `express` module's default export. */
  express: any
  /** The `express-session` module's default export. */
  session: any
  /** The Express library's store. */
  expressStore: unknown
  /** Our store, for the Fastify app. */
  fastifyStore: fastifySession.SessionStore
}

/** The two apps. */
export interface InteropApps {
  /** The origin of each app. */
  base: { express: string, fastify: string }
  /** One request to one of the apps, with `cookie` when given. */
  call: (app: 'express' | 'fastify', method: string, path: string, cookie?: string) => Promise<Reply>
}

/** Starts the Express app and the Fastify app, both closed when the test ends. */
export async function interopApps (t: Test, options: InteropOptions): Promise<InteropApps> {
  const base = {
    express: await expressApp(t, options.express, options.session, options.expressStore),
    fastify: await fastifyApp(t, options.fastifyStore)
  }
  return { base, call: async (app, method, path, cookie) => await callAt(base[app], method, path, cookie) }
}

type Call = InteropApps['call']

/** Checks a test adds right after a side wrote a session, given that request's reply. */
export interface WriteChecks {
  /** After Express's login of ada. */
  expressLogin?: (reply: Reply) => Promise<void>
  /** After Fastify's last change to ada's session. */
  fastifyChange?: (reply: Reply) => Promise<void>
  /** After Fastify's login of bob. */
  fastifyLogin?: (reply: Reply) => Promise<void>
}

const none = async (): Promise<void> => {}

/**
 * Checks that sessions cross both ways. Ada logs in on Express; Fastify reads her session and
 * changes it, Express reads that and changes it, and Fastify again. Bob logs in on Fastify; Express
 * reads his session and changes it, then Fastify. Resolves to their cookies, both still logged in.
 */
export async function sessionsCross (t: Test, call: Call, checks: WriteChecks = {}): Promise<{ ada: string, bob: string }> {
  const { expressLogin = none, fastifyChange = none, fastifyLogin = none } = checks
  const answered = async (reply: Promise<Reply>, user: string, views: number, by: string, message: string): Promise<Reply> => {
    const got = await reply
    t.strictSame(got.body, { user, views, note: NOTE, by }, message)
    return got
  }

  const logIn = async (app: 'express' | 'fastify', user: string, message: string, check: (reply: Reply) => Promise<void>): Promise<string> => {
    const reply = await call(app, 'POST', `/login/${user}`)
    t.match(decodeURIComponent(String(reply.cookie)), SIGNED, message)
    await check(reply)
    return reply.cookie as string
  }

  const ada = await logIn('express', 'ada', 'express-session signs its cookie', expressLogin)
  await answered(call('fastify', 'GET', '/me', ada), 'ada', 0, 'fastify', 'Fastify reads the session Express wrote')
  await answered(call('fastify', 'POST', '/visit', ada), 'ada', 1, 'fastify', 'and changes it')
  await answered(call('express', 'POST', '/visit', ada), 'ada', 2, 'express', 'Express reads what Fastify changed, and changes it')
  await fastifyChange(await answered(call('fastify', 'POST', '/visit', ada), 'ada', 3, 'fastify', 'and the other way again'))

  const bob = await logIn('fastify', 'bob', 'Fastify signs its cookie the same way', fastifyLogin)
  await answered(call('express', 'GET', '/me', bob), 'bob', 0, 'express', 'Express reads the session Fastify wrote')
  await answered(call('express', 'POST', '/visit', bob), 'bob', 1, 'express', 'and changes it')
  await answered(call('fastify', 'POST', '/visit', bob), 'bob', 2, 'fastify', 'Fastify reads what Express changed')
  return { ada, bob }
}

/** Checks that logouts cross both ways: ada's on Fastify ends her session on Express, bob's on Express his on Fastify. */
export async function logoutsCross (t: Test, call: Call, ada: string, bob: string): Promise<void> {
  t.equal((await call('fastify', 'POST', '/logout', ada)).status, 204, 'ada logs out on Fastify')
  t.equal((await call('express', 'GET', '/me', ada)).status, 401, 'logged out on Fastify: gone on Express')
  t.equal((await call('express', 'POST', '/logout', bob)).status, 204, 'bob logs out on Express')
  t.equal((await call('fastify', 'GET', '/me', bob)).status, 401, 'logged out on Express: gone on Fastify')
}

/** A row of a session table, as a test reads it. */
export interface SessionRow {
  /** The session's JSON, parsed. */
  data: any
  /** That JSON as the table holds it. */
  text: string
  /** The row's expiry, in milliseconds since the epoch. */
  expires: number
}

/** What `sqlSessionsCross()` needs of a session table and of the two stores on it. */
export interface SessionTable {
  /** For the messages: the Express library, our store, and the columns of the JSON and of the expiry. */
  names: { express: string, fastify: string, data: string, expires: string }
  /** The row of session `sid`. */
  row: (sid: string) => Promise<SessionRow | undefined>
  /** How many rows the table holds. */
  count: () => Promise<number>
  /** What our store's pool ran: the first word of each statement. */
  statements: string[]
  /** Has the Express store write `written` for `sid`, then touch it with `touched` (what express-session does on a read). */
  touch: (sid: string, written: object, touched: object) => Promise<void>
}

/**
 * `sessionsCross()` and `logoutsCross()` on a SQL table, with what each side's rows hold: the
 * session's JSON, and its cookie's expiry (that of the Set-Cookie too, within a second). Also: a
 * rolling read on Fastify runs one SELECT and leaves the row as it is, and a session Express kept
 * alive by touches alone (its JSON says expired, the row's expiry says live) is live for Fastify.
 */
export async function sqlSessionsCross (t: Test, call: Call, table: SessionTable): Promise<void> {
  const { names } = table
  const near = (a: number, b: number | undefined): boolean => b !== undefined && Math.abs(a - b) <= 1000
  // (originalMaxAge is matched as a number: express-session's Cookie, restoring `expires`, sets it
  // to `expires - now`, a millisecond or two under maxAge once a millisecond has passed)
  const holds = (who: string, cookie: object, session: object) => async (reply: Reply): Promise<void> => {
    const row = await table.row(sidOf(reply.cookie as string))
    t.match(row?.data, { cookie: { originalMaxAge: Number, expires: String, path: '/', ...cookie }, ...session }, `${who}'s row: ${names.data} is the session's JSON`)
    t.ok(near(row?.expires as number, Date.parse(row?.data.cookie.expires)), `its ${names.expires} is the cookie's expiry (to the second)`)
    t.ok(near(row?.expires as number, reply.expires), 'and the Set-Cookie Expires, within a second')
  }
  const { ada, bob } = await sessionsCross(t, call, {
    expressLogin: holds(names.express, { httpOnly: true }, { user: 'ada', views: 0, note: NOTE }),
    fastifyChange: holds(names.fastify, {}, { user: 'ada', views: 3 }),
    fastifyLogin: holds(names.fastify, {}, { user: 'bob', views: 0 })
  })

  // a rolling read on Fastify of a session it just wrote: one SELECT, the row left as it is
  const before = await table.row(sidOf(bob))
  table.statements.length = 0
  const read = await call('fastify', 'GET', '/me', bob)
  t.strictSame(read.body, { user: 'bob', views: 2, note: NOTE, by: 'fastify' }, 'Fastify reads the session')
  t.ok(read.expires !== undefined, 'rolling: Fastify sends the cookie again')
  t.strictSame(table.statements, ['SELECT'], 'and runs one SELECT, no write')
  t.strictSame(await table.row(sidOf(bob)), before, 'the row is not rewritten')
  t.strictSame((await call('express', 'POST', '/visit', bob)).body, { user: 'bob', views: 3, note: NOTE, by: 'express' }, 'Express goes on with it')

  // a session Express keeps alive by touches only: the Express store moves the row's expiry and
  // leaves the JSON as last written, its cookie's `expires` long past
  const carol = (await call('express', 'POST', '/login/carol')).cookie as string
  const written = { cookie: { originalMaxAge: MAX_AGE, expires: new Date(Date.now() - 60_000).toISOString(), httpOnly: true, path: '/' }, user: 'carol', views: 5, note: NOTE }
  await table.touch(sidOf(carol), written, { ...written, cookie: { ...written.cookie, expires: new Date(Date.now() + MAX_AGE) } })
  const touched = await table.row(sidOf(carol))
  t.ok(Date.parse(touched?.data.cookie.expires) < Date.now() && (touched?.expires as number) > Date.now() + MAX_AGE - 5000,
    `${names.data} says expired, ${names.expires} says live`)
  t.strictSame((await call('fastify', 'POST', '/visit', carol)).body, { user: 'carol', views: 6, note: NOTE, by: 'fastify' }, 'Fastify takes it as live, as Express does')
  t.strictSame((await call('express', 'POST', '/visit', carol)).body, { user: 'carol', views: 7, note: NOTE, by: 'express' }, 'and Express goes on with it')

  await logoutsCross(t, call, ada, bob)
  t.equal((await call('fastify', 'POST', '/logout', carol)).status, 204, 'carol logs out on Fastify')
  t.equal(await table.count(), 0, 'no row left')
}
