// An Express app (express-session + connect-pg-simple) and a Fastify app (@fastify/session +
// PostgresStore) on one PostgreSQL table share live sessions both ways, over real HTTP: a team
// moving from Express keeps its table and its logged-in users. Each side's rows are checked as the
// other expects them: `sess` the session's JSON, `expire` its cookie's expiry.
import { once } from 'node:events'
import type { AddressInfo, Server } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import { PostgresStore } from '../../plugins/session/index.js'
import { requireService, unavailable } from '../helpers/services.js'
import { countingPool, dropTables, pgPool, uniqueTable } from '../helpers/sql.js'

declare module 'fastify' {
  interface Session { user?: string, views?: number, note?: string }
}

const SECRET = 'a secret of at least thirty-two characters, shared'
const MAX_AGE = 3_600_000

// express, express-session and connect-pg-simple ship no types this project installs: loaded untyped
const load = async (name: string): Promise<any> => await import(name)

interface Variant {
  /**
   * Who makes the table: PostgresStore (`createTable: true`) in the search path, or connect-pg-simple
   * (`createTableIfMissing: true`) in a schema of its own (`schemaName` on both sides): its
   * table.sql names the key `session_pkey` and the index `IDX_session_expire` whatever the table,
   * so two of its tables cannot share a schema (nor one share it with a `session` table).
   */
  table: 'PostgresStore' | 'connect-pg-simple'
  /** The `TimeZone` of the pool's connections (`expire` is a timestamp without time zone); unset: the server's. */
  timeZone?: string
}

const VARIANTS: Variant[] = [
  { table: 'PostgresStore' },
  { table: 'connect-pg-simple', timeZone: 'Asia/Kolkata' }
]

for (const variant of VARIANTS) {
  const where = variant.table === 'PostgresStore'
    ? 'the table made by PostgresStore'
    : `the table made by connect-pg-simple in its own schema, connections in ${String(variant.timeZone)}`
  test(`Express (express-session + connect-pg-simple) and Fastify (PostgresStore) share live sessions both ways: ${where}`, async (t) => {
    const postgres = await requireService(t, 'postgres')
    if (postgres === null) return
    const loaded = await Promise.all([load('express'), load('express-session'), load('connect-pg-simple')]).catch((err: Error) => err)
    /* c8 ignore next - only when the devDependencies express, express-session and connect-pg-simple are missing */
    if (loaded instanceof Error) return unavailable(t, `express interop needs express, express-session and connect-pg-simple@10: ${loaded.message}`)
    const [{ default: express }, { default: session }, { default: connectPgSimple }] = loaded
    const pool = pgPool(t, postgres.url, variant.timeZone === undefined ? {} : { options: `-c TimeZone=${variant.timeZone}` })
    const tableName = uniqueTable('express')
    const schemaName = variant.table === 'PostgresStore' ? undefined : uniqueTable('schema')
    if (schemaName === undefined) dropTables(t, (sql) => pool.query(sql), [tableName], '"')
    else {
      await pool.query(`CREATE SCHEMA "${schemaName}"`)
      t.teardown(async () => { await pool.query(`DROP SCHEMA IF EXISTS "${schemaName}" CASCADE`) })
    }
    const table = schemaName === undefined ? `"${tableName}"` : `"${schemaName}"."${tableName}"`
    const rows = async (sql: string, values: unknown[] = []): Promise<Array<Record<string, any>>> => (await pool.query(sql, values)).rows

    // what the Fastify side runs is counted (the Express side uses the pool itself)
    const { pool: counted, statements } = countingPool(pool)
    const store = new PostgresStore({ pool: counted, schemaName, tableName, createTable: variant.table === 'PostgresStore', pruneInterval: false })
    t.teardown(() => store.close())
    if (variant.table === 'PostgresStore') t.equal(await store.length(), 0, 'PostgresStore made the table on its first call, before Express uses it')

    const PGStore = connectPgSimple(session)
    const pgStore = new PGStore({ pool, schemaName, tableName, createTableIfMissing: variant.table === 'connect-pg-simple', pruneSessionInterval: false })
    t.teardown(() => pgStore.close())
    const app = express()
    app.use(session({ store: pgStore, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }))
    app.post('/login/:user', (req: any, res: any) => { req.session.user = req.params.user; req.session.views = 0; req.session.note = 'zoë 🍪 "quoted"'; res.json({ ok: true }) })
    app.get('/me', (req: any, res: any) => {
      if (req.session.user === undefined) return res.status(401).json({ user: null })
      req.session.views += 1
      res.json({ user: req.session.user, views: req.session.views, note: req.session.note, by: 'express' })
    })
    app.post('/logout', (req: any, res: any) => { req.session.destroy(() => res.status(204).end()) })
    const expressServer: Server = app.listen(0, '127.0.0.1')
    await once(expressServer, 'listening')
    t.teardown(() => { expressServer.close() })

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
    fastify.post<{ Params: { user: string } }>('/login/:user', async (req) => {
      await req.session.regenerate()
      req.session.set('user', req.params.user)
      req.session.set('views', 0)
      req.session.set('note', 'zoë 🍪 "quoted"')
      return { ok: true }
    })
    fastify.get('/me', async (req, reply) => {
      const user = req.session.get('user')
      if (user === undefined) return await reply.code(401).send({ user: null })
      const views = (req.session.get('views') as number) + 1
      req.session.set('views', views)
      return { user, views, note: req.session.get('note'), by: 'fastify' }
    })
    // reads only: with `rolling`, @fastify/session still hands the session to the store's set()
    fastify.get('/peek', async (req) => ({ user: req.session.get('user') ?? null, views: req.session.get('views') ?? null }))
    fastify.post('/logout', async (req, reply) => {
      await req.session.destroy()
      return await reply.code(204).send()
    })
    await fastify.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => fastify.close())

    const base = {
      express: `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`,
      fastify: `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`
    }
    const call = async (app: 'express' | 'fastify', method: string, path: string, cookie?: string): Promise<{ status: number, body: unknown, cookie: string | undefined, expires: number | undefined }> => {
      const res = await fetch(base[app] + path, { method, headers: cookie === undefined ? {} : { cookie } })
      const text = await res.text()
      const header = res.headers.get('set-cookie') ?? undefined
      const expires = header === undefined ? undefined : Date.parse(/;\s*Expires=([^;]+)/i.exec(header)?.[1] ?? '')
      return { status: res.status, body: text === '' ? null : JSON.parse(text), cookie: header?.split(';')[0], expires }
    }
    // connect.sid=s:<sid>.<signature>, URL-encoded or not
    const sidOf = (cookie: string): string => decodeURIComponent(cookie).replace(/^connect\.sid=s:/, '').replace(/\.[^.]*$/, '')
    // `expire` as an instant, through the connection's TimeZone as both stores read it
    const rowOf = async (cookie: string): Promise<{ sess: any, text: string, expire: number } | undefined> => {
      const [row] = await rows(`SELECT sess, sess::text AS text, extract(epoch FROM expire::timestamptz)::float8 AS epoch FROM ${table} WHERE sid = $1`, [sidOf(cookie)])
      return row === undefined ? undefined : { sess: row.sess, text: row.text, expire: row.epoch * 1000 }
    }
    const near = (a: number, b: number | undefined): boolean => b !== undefined && Math.abs(a - b) <= 1000
    // (originalMaxAge is matched as a number: express-session's Cookie, restoring `expires`, sets it
    // to `expires - now`, a millisecond or two under maxAge once a millisecond has passed)

    // logged in on Express, used on Fastify, back on Express
    const login = await call('express', 'POST', '/login/ada')
    const signed = /^connect\.sid=s:[\w-]+\.[A-Za-z0-9+/]{43}$/
    t.match(decodeURIComponent(String(login.cookie)), signed, 'express-session signs its cookie')
    const adaCookie = login.cookie as string
    const written = await rowOf(adaCookie)
    t.match(written?.sess, { cookie: { originalMaxAge: Number, expires: String, httpOnly: true, path: '/' }, user: 'ada', views: 0, note: 'zoë 🍪 "quoted"' },
      'connect-pg-simple\'s row: sess is the session\'s JSON')
    t.ok(near(written?.expire as number, Date.parse(written?.sess.cookie.expires)), 'its expire is the cookie\'s expiry (rounded up to the second)')
    t.ok(near(written?.expire as number, login.expires), 'and the Set-Cookie Expires, within a second')
    t.strictSame((await call('fastify', 'GET', '/me', adaCookie)).body, { user: 'ada', views: 1, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'Fastify reads the session Express wrote')
    t.strictSame((await call('express', 'GET', '/me', adaCookie)).body, { user: 'ada', views: 2, note: 'zoë 🍪 "quoted"', by: 'express' }, 'Express reads what Fastify changed')
    const again = await call('fastify', 'GET', '/me', adaCookie)
    t.strictSame(again.body, { user: 'ada', views: 3, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'and the other way again')
    const rewritten = await rowOf(adaCookie)
    t.match(rewritten?.sess, { cookie: { originalMaxAge: Number, expires: String, path: '/' }, user: 'ada', views: 3 }, 'PostgresStore\'s row: sess is the session\'s JSON')
    t.ok(near(rewritten?.expire as number, Date.parse(rewritten?.sess.cookie.expires)), 'its expire is the cookie\'s expiry')
    t.ok(near(rewritten?.expire as number, again.expires), 'and the Set-Cookie Expires, within a second')

    // logged in on Fastify, used on Express
    const fastifyLogin = await call('fastify', 'POST', '/login/bob')
    t.match(decodeURIComponent(String(fastifyLogin.cookie)), signed, 'Fastify signs its cookie the same way')
    const bobCookie = fastifyLogin.cookie as string
    const bobRow = await rowOf(bobCookie)
    t.match(bobRow?.sess, { cookie: { originalMaxAge: Number, expires: String, path: '/' }, user: 'bob', views: 0 }, 'Fastify\'s login row: sess is the session\'s JSON')
    t.ok(near(bobRow?.expire as number, fastifyLogin.expires), 'its expire is the Set-Cookie Expires, within a second')
    t.strictSame((await call('express', 'GET', '/me', bobCookie)).body, { user: 'bob', views: 1, note: 'zoë 🍪 "quoted"', by: 'express' }, 'Express reads the session Fastify wrote')
    t.strictSame((await call('fastify', 'GET', '/me', bobCookie)).body, { user: 'bob', views: 2, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'Fastify reads what Express changed')

    // a rolling read on Fastify of a session it just wrote: one SELECT, the row left as it is
    const before = await rowOf(bobCookie)
    statements.length = 0
    const peek = await call('fastify', 'GET', '/peek', bobCookie)
    t.strictSame(peek.body, { user: 'bob', views: 2 })
    t.ok(peek.expires !== undefined, 'rolling: Fastify sends the cookie again')
    t.strictSame(statements, ['SELECT'], 'and runs one SELECT, no write')
    t.strictSame(await rowOf(bobCookie), before, 'the row is not rewritten')
    t.strictSame((await call('express', 'GET', '/me', bobCookie)).body, { user: 'bob', views: 3, note: 'zoë 🍪 "quoted"', by: 'express' }, 'Express goes on with it')

    // an Express session kept alive by touches only: express-session + connect-pg-simple move
    // `expire` (touch) and leave `sess` as last written, its cookie's `expires` long past
    const carolLogin = await call('express', 'POST', '/login/carol')
    const carolCookie = carolLogin.cookie as string
    const carolSid = sidOf(carolCookie)
    const lastWrite = { cookie: { originalMaxAge: MAX_AGE, expires: new Date(Date.now() - 60_000).toISOString(), httpOnly: true, path: '/' }, user: 'carol', views: 5, note: 'zoë 🍪 "quoted"' }
    await new Promise<void>((resolve, reject) => pgStore.set(carolSid, lastWrite, (err: Error | null) => { if (err === null) resolve(); else reject(err) }))
    await new Promise<void>((resolve, reject) => pgStore.touch(carolSid, { ...lastWrite, cookie: { ...lastWrite.cookie, expires: new Date(Date.now() + MAX_AGE) } },
      (err: Error | null) => { if (err === null) resolve(); else reject(err) }))
    const touched = await rowOf(carolCookie)
    t.ok(Date.parse(touched?.sess.cookie.expires) < Date.now() && (touched?.expire as number) > Date.now() + MAX_AGE - 5000, 'sess says expired, expire says live')
    t.strictSame((await call('fastify', 'GET', '/me', carolCookie)).body, { user: 'carol', views: 6, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'Fastify takes it as live, as Express does')
    t.strictSame((await call('express', 'GET', '/me', carolCookie)).body, { user: 'carol', views: 7, note: 'zoë 🍪 "quoted"', by: 'express' }, 'and Express goes on with it')

    // logout on one side ends the session on the other
    t.equal((await call('fastify', 'POST', '/logout', adaCookie)).status, 204)
    t.equal((await call('express', 'GET', '/me', adaCookie)).status, 401, 'logged out on Fastify: gone on Express')
    t.equal((await call('express', 'POST', '/logout', bobCookie)).status, 204)
    t.equal((await call('fastify', 'GET', '/me', bobCookie)).status, 401, 'logged out on Express: gone on Fastify')
    t.equal((await call('fastify', 'POST', '/logout', carolCookie)).status, 204)
    t.strictSame(await rows(`SELECT sid FROM ${table}`), [], 'no row left')
  })
}
