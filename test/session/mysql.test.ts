// What only MySqlStore does, against the real MariaDB: the index check, callback pools, whole
// seconds, rows express-mysql-session can leave, and concurrent regenerates without lock errors.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import mysqlCallback from 'mysql2'
import { test } from 'tap'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { MySqlStore } from '../../plugins/session/index.js'
import { requireService } from '../helpers/services.js'
import { dropTables, mysqlPool, uniqueTable } from '../helpers/sql.js'

const HOUR = 3_600_000
const cookie = (ms = HOUR, from = Date.now()): Record<string, unknown> => ({ expires: new Date(from + ms), originalMaxAge: ms })

test('MySqlStore on the real server', async (t) => {
  const server = await requireService(t, 'mysql')
  if (server === null) return
  const pool = mysqlPool(t, server.url)
  const table = uniqueTable('mysql')
  const bare = uniqueTable('bare')
  dropTables(t, (sql) => pool.query(sql), [table, bare], '`')

  t.test('a table without an index on expires (express-mysql-session\'s own SQL) is used, with one warning', async (t) => {
    await pool.query(`CREATE TABLE \`${bare}\` (session_id varchar(128) COLLATE utf8mb4_bin NOT NULL, expires int(11) unsigned NOT NULL, data mediumtext COLLATE utf8mb4_bin, PRIMARY KEY (session_id)) ENGINE=InnoDB`)
    const logger = recordingLogger()
    const store = new MySqlStore({ pool, tableName: bare, pruneInterval: false, logger })
    await Promise.all([store.set('a', { cookie: cookie() }), store.get('a'), store.length()])
    t.equal(await store.length(), 1)
    t.equal(logger.lines.length, 1, 'warned once')
    t.match(logger.lines[0], { level: 'warn', obj: { err: { code: 'FST_FLEET_SESSION_EXPIRES_INDEX_MISSING', message: new RegExp(`ALTER TABLE \`${bare}\` ADD INDEX`) } } })
    await store.close()

    const quiet = recordingLogger()
    const made = new MySqlStore({ pool, tableName: table, createTable: true, pruneInterval: false, logger: quiet })
    await made.length()
    t.strictSame(quiet.lines, [], 'no warning on the table createTable makes')
    await made.close()
  })

  t.test('a url the driver refuses fails each call with a coded error', async (t) => {
    const store = new MySqlStore({ url: 'not a url', pruneInterval: false })
    for (let i = 0; i < 2; i++) await t.rejects(store.get('s'), { code: 'FST_FLEET_SESSION_BACKEND', message: /Invalid URL/ }, 'tried again on each call')
    await store.close()
  })

  t.test('a callback pool of mysql2 works as well', async (t) => {
    const callbackPool = mysqlCallback.createPool({ uri: server.url })
    t.teardown(() => new Promise<void>((resolve) => { callbackPool.end(() => resolve()) }))
    const store = new MySqlStore({ pool: callbackPool, tableName: table, pruneInterval: false })
    await store.set('cb', { cookie: cookie(), user: 'ada' })
    t.equal((await store.get('cb'))?.user, 'ada')
    await store.destroy('cb')
    await store.close()
  })

  t.test('expiries are kept in whole seconds, rounded down', async (t) => {
    const now = Math.floor(Date.now() / 1000) * 1000 + 400
    const store = new MySqlStore({ pool, tableName: table, pruneInterval: false, now: () => now })
    await store.set('sec', { cookie: cookie(1500, now) })
    const [rows] = await pool.query('SELECT expires FROM ?? WHERE session_id = ?', [table, 'sec'])
    t.equal((rows as Array<{ expires: number }>)[0]?.expires, (now - 400) / 1000 + 1, 'now + 1.5 s, rounded down to the second')
    await store.destroy('sec')
    await store.close()
  })

  t.test('a NULL or non-JSON data column reads as no session, logged', async (t) => {
    const logger = recordingLogger()
    const store = new MySqlStore({ pool, tableName: table, pruneInterval: false, logger })
    const later = Math.ceil(Date.now() / 1000) + 3600
    await pool.query('INSERT INTO ?? (session_id, data, expires) VALUES (?, NULL, ?), (?, ?, ?)', [table, 'null-data', later, 'not-json', '{oops', later])
    t.equal(await store.get('null-data'), null)
    t.equal(await store.get('not-json'), null)
    t.strictSame(logger.lines.map((l) => (l.obj.err as { code: string }).code), ['FST_FLEET_SESSION_CORRUPT', 'FST_FLEET_SESSION_CORRUPT'])
    await store.clear()
    await store.close()
  })

  t.test('200 concurrent regenerates on one pool end without a lock error', async (t) => {
    const store = new MySqlStore({ pool, tableName: table, pruneInterval: false })
    const app = Fastify()
    await app.register(fastifyCookie)
    await app.register(fastifySession, { store, secret: 'a secret of at least thirty-two characters', saveUninitialized: false, cookie: { secure: false, maxAge: HOUR } })
    app.post('/login', async (req) => {
      await req.session.regenerate()
      req.session.set('user', 'ada')
      return { ok: true }
    })
    t.teardown(() => app.close())
    const first = await Promise.all(Array.from({ length: 200 }, () => app.inject({ method: 'POST', url: '/login' })))
    const cookies = first.map((res) => String(res.headers['set-cookie']).split(';')[0] as string)
    // each one logs in again over its own session: a destroy and an insert, all at once
    const again = await Promise.all(cookies.map((c) => app.inject({ method: 'POST', url: '/login', headers: { cookie: c } })))
    t.strictSame([...first, ...again].filter((res) => res.statusCode !== 200).map((res) => res.body), [], 'every request answered 200')
    t.equal(await store.length(), 200, 'one session each, the regenerated ones')
    await store.clear()
  })
})
