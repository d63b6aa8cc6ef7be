// An Express app (express-session + express-mysql-session) and a Fastify app (@fastify/session +
// MySqlStore) on one MariaDB/MySQL table share live sessions both ways, over real HTTP: a team
// moving from Express keeps its table and its logged-in users. Each side's rows are checked as the
// other expects them: `data` the session's JSON, `expires` its cookie's expiry in seconds.
import { once } from 'node:events'
import type { AddressInfo, Server } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { MySqlStore } from '../../plugins/session/index.js'
import { requireService, unavailable } from '../helpers/services.js'
import { countingPool, dropTables, mysqlPool, uniqueTable } from '../helpers/sql.js'

declare module 'fastify' {
  interface Session { user?: string, views?: number, note?: string }
}

const SECRET = 'a secret of at least thirty-two characters, shared'
const MAX_AGE = 3_600_000

// express, express-session and express-mysql-session ship no types this project installs: loaded untyped
const load = async (name: string): Promise<any> => await import(name)

/** Who makes the table: MySqlStore (`createTable: true`, with an index on `expires`) or express-mysql-session (`createDatabaseTable: true`, without). */
const MAKERS = ['MySqlStore', 'express-mysql-session'] as const

for (const maker of MAKERS) {
  test(`Express (express-session + express-mysql-session) and Fastify (MySqlStore) share live sessions both ways: the table made by ${maker}`, async (t) => {
    const mysql = await requireService(t, 'mysql')
    if (mysql === null) return
    const loaded = await Promise.all([load('express'), load('express-session'), load('express-mysql-session')]).catch((err: Error) => err)
    /* c8 ignore next - only when the devDependencies express, express-session and express-mysql-session are missing */
    if (loaded instanceof Error) return unavailable(t, `express interop needs express, express-session and express-mysql-session@3: ${loaded.message}`)
    const [{ default: express }, { default: session }, { default: expressMySqlSession }] = loaded
    // a mysql2/promise pool: express-mysql-session 3 takes the promise its query() returns
    const pool = mysqlPool(t, mysql.url)
    const tableName = uniqueTable('express')
    dropTables(t, (sql) => pool.query(sql), [tableName], '`')
    const rows = async (sql: string, values: unknown[] = []): Promise<Array<Record<string, any>>> => (await pool.query(sql, values))[0] as Array<Record<string, any>>

    const MySQLStore = expressMySqlSession(session)
    const mysqlStore = new MySQLStore({ createDatabaseTable: maker === 'express-mysql-session', clearExpired: false, schema: { tableName } }, pool)
    t.teardown(() => mysqlStore.close())
    await mysqlStore.onReady()

    // what the Fastify side runs is counted (the Express side uses the pool itself)
    const { pool: counted, statements } = countingPool(pool)
    const logger = recordingLogger()
    const store = new MySqlStore({ pool: counted, tableName, createTable: maker === 'MySqlStore', pruneInterval: false, logger })
    t.teardown(() => store.close())
    t.equal(await store.length(), 0, `${maker} made the table before either side serves a request`)
    if (maker === 'MySqlStore') t.strictSame(logger.lines, [], 'with its index on expires')
    else {
      t.match(logger.lines, [{ level: 'warn', obj: { err: { code: 'FST_FLEET_SESSION_EXPIRES_INDEX_MISSING' } } }],
        'express-mysql-session\'s table has no index on expires: MySqlStore says once how to add it')
    }
    const app = express()
    app.use(session({ store: mysqlStore, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }))
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
    // `data` parsed, `expires` (whole seconds) in milliseconds
    const rowOf = async (cookie: string): Promise<{ data: any, text: string, expires: number } | undefined> => {
      const [row] = await rows(`SELECT data, expires FROM \`${tableName}\` WHERE session_id = ?`, [sidOf(cookie)])
      return row === undefined ? undefined : { data: JSON.parse(row.data), text: row.data, expires: Number(row.expires) * 1000 }
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
    t.match(written?.data, { cookie: { originalMaxAge: Number, expires: String, httpOnly: true, path: '/' }, user: 'ada', views: 0, note: 'zoë 🍪 "quoted"' },
      'express-mysql-session\'s row: data is the session\'s JSON')
    t.ok(near(written?.expires as number, Date.parse(written?.data.cookie.expires)), 'its expires is the cookie\'s expiry (rounded to the second)')
    t.ok(near(written?.expires as number, login.expires), 'and the Set-Cookie Expires, within a second')
    t.strictSame((await call('fastify', 'GET', '/me', adaCookie)).body, { user: 'ada', views: 1, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'Fastify reads the session Express wrote')
    t.strictSame((await call('express', 'GET', '/me', adaCookie)).body, { user: 'ada', views: 2, note: 'zoë 🍪 "quoted"', by: 'express' }, 'Express reads what Fastify changed')
    const again = await call('fastify', 'GET', '/me', adaCookie)
    t.strictSame(again.body, { user: 'ada', views: 3, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'and the other way again')
    const rewritten = await rowOf(adaCookie)
    t.match(rewritten?.data, { cookie: { originalMaxAge: Number, expires: String, path: '/' }, user: 'ada', views: 3 }, 'MySqlStore\'s row: data is the session\'s JSON')
    t.ok(near(rewritten?.expires as number, Date.parse(rewritten?.data.cookie.expires)), 'its expires is the cookie\'s expiry (rounded up to the second)')
    t.ok(near(rewritten?.expires as number, again.expires), 'and the Set-Cookie Expires, within a second')

    // logged in on Fastify, used on Express
    const fastifyLogin = await call('fastify', 'POST', '/login/bob')
    t.match(decodeURIComponent(String(fastifyLogin.cookie)), signed, 'Fastify signs its cookie the same way')
    const bobCookie = fastifyLogin.cookie as string
    const bobRow = await rowOf(bobCookie)
    t.match(bobRow?.data, { cookie: { originalMaxAge: Number, expires: String, path: '/' }, user: 'bob', views: 0 }, 'Fastify\'s login row: data is the session\'s JSON')
    t.ok(near(bobRow?.expires as number, fastifyLogin.expires), 'its expires is the Set-Cookie Expires, within a second')
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

    // an Express session kept alive by touches only: express-session + express-mysql-session move
    // `expires` (touch) and leave `data` as last written, its cookie's `expires` long past
    const carolLogin = await call('express', 'POST', '/login/carol')
    const carolCookie = carolLogin.cookie as string
    const carolSid = sidOf(carolCookie)
    const lastWrite = { cookie: { originalMaxAge: MAX_AGE, expires: new Date(Date.now() - 60_000).toISOString(), httpOnly: true, path: '/' }, user: 'carol', views: 5, note: 'zoë 🍪 "quoted"' }
    await mysqlStore.set(carolSid, lastWrite)
    await mysqlStore.touch(carolSid, { ...lastWrite, cookie: { ...lastWrite.cookie, expires: new Date(Date.now() + MAX_AGE) } })
    const touched = await rowOf(carolCookie)
    t.ok(Date.parse(touched?.data.cookie.expires) < Date.now() && (touched?.expires as number) > Date.now() + MAX_AGE - 5000, 'data says expired, expires says live')
    t.strictSame((await call('fastify', 'GET', '/me', carolCookie)).body, { user: 'carol', views: 6, note: 'zoë 🍪 "quoted"', by: 'fastify' }, 'Fastify takes it as live, as Express does')
    t.strictSame((await call('express', 'GET', '/me', carolCookie)).body, { user: 'carol', views: 7, note: 'zoë 🍪 "quoted"', by: 'express' }, 'and Express goes on with it')

    // logout on one side ends the session on the other
    t.equal((await call('fastify', 'POST', '/logout', adaCookie)).status, 204)
    t.equal((await call('express', 'GET', '/me', adaCookie)).status, 401, 'logged out on Fastify: gone on Express')
    t.equal((await call('express', 'POST', '/logout', bobCookie)).status, 204)
    t.equal((await call('fastify', 'GET', '/me', bobCookie)).status, 401, 'logged out on Express: gone on Fastify')
    t.equal((await call('fastify', 'POST', '/logout', carolCookie)).status, 204)
    t.strictSame(await rows(`SELECT session_id FROM \`${tableName}\``), [], 'no row left')
  })
}
