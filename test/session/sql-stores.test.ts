// What PostgresStore and MySqlStore share, tested on each against the real server: options, the
// table (missing, made, shipped), prunes, statements per request, bad rows, hostile ids, url pools.
import { readFileSync } from 'node:fs'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import { MySqlStore, PostgresStore } from '../../plugins/session/index.js'
import { mysqlCreateStatements } from '../../plugins/session/stores/mysql.js'
import { postgresCreateStatements } from '../../plugins/session/stores/postgres.js'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { requireService } from '../helpers/services.js'
import { countingPool, dropTables, SQL_KINDS, uniqueTable } from '../helpers/sql.js'

const HOUR = 3_600_000
const cookie = (ms = HOUR): Record<string, unknown> => ({ expires: new Date(Date.now() + ms), originalMaxAge: ms })
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const count = (what: string): number => process.getActiveResourcesInfo().filter((r) => r === what).length

test('the options of both SQL stores are checked with coded errors', async (t) => {
  const pool = { query: async () => ({ rows: [], rowCount: 0 }), end: async () => {} }
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['neither pool nor url', {}, /pool: give pool \(recommended\) or url/],
    ['both', { pool, url: 'x://y' }, /pool: give pool or url, not both/],
    ['a pool without query()', { pool: { end: () => {} } }, /invalid option pool: expected/],
    ['a url that is not a string', { url: 5 }, /invalid option url/],
    ['a quote in the table name', { pool, tableName: 'a"b' }, /invalid option tableName: expected letters/],
    ['a table name starting with a digit', { pool, tableName: '1x' }, /invalid option tableName/],
    ['a table name of 64 characters', { pool, tableName: 'a'.repeat(64) }, /invalid option tableName/],
    ['createTable not a boolean', { pool, createTable: 'yes' }, /invalid option createTable/],
    ['pruneInterval 0', { pool, pruneInterval: 0 }, /invalid option pruneInterval/],
    ['pruneInterval true', { pool, pruneInterval: true }, /invalid option pruneInterval/],
    ['pruneInterval beyond setTimeout', { pool, pruneInterval: 2 ** 31 }, /invalid option pruneInterval/],
    ['pruneBatch 1.5', { pool, pruneBatch: 1.5 }, /invalid option pruneBatch/],
    ['an unknown option', { pool, table: 'x' }, /invalid option table: unknown option/],
    ['a common option', { pool, ttl: 0 }, /invalid option ttl/]
  ]
  for (const Store of [PostgresStore, MySqlStore]) {
    for (const [label, options, message] of bad) {
      t.throws(() => new Store(options as never), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message }, `${Store.name}: ${label}`)
    }
  }
  t.throws(() => new PostgresStore({ pool, schemaName: 'x y' } as never), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: /schemaName/ })
  t.throws(() => new PostgresStore({ pool, prepare: 'yes' } as never), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: /invalid option prepare/ })
  const options = { pool, tableName: 't', pruneInterval: false as const }
  new PostgresStore(options).close().catch(() => {})
  t.strictSame(options, { pool, tableName: 't', pruneInterval: false }, 'the caller\'s object is left as it is')
})

test('the shipped SQL files are what createTable runs for the default names', async (t) => {
  const statementsOf = (file: string): string[] => readFileSync(new URL(`../../plugins/session/sql/${file}`, import.meta.url), 'utf8')
    .split('\n').filter((line) => !line.startsWith('--')).join('\n').split(';').map((s) => s.trim()).filter((s) => s !== '')
  t.strictSame(statementsOf('postgres.sql'), postgresCreateStatements(undefined, 'session'))
  t.strictSame(statementsOf('mysql.sql'), mysqlCreateStatements('sessions'))
})

for (const kind of SQL_KINDS) {
  test(`${kind.name} on the real server`, async (t) => {
    const server = await requireService(t, kind.service)
    if (server === null) return
    const pool = kind.pool(t, server.url)
    const table = uniqueTable('store')
    const missing = uniqueTable('missing')
    dropTables(t, (sql) => kind.query(pool, sql), [table, missing], kind.quote)

    t.test('a missing table is a coded error that says what to run', async (t) => {
      const store = kind.store(pool, { tableName: missing, pruneInterval: false })
      const err = await store.get('s').then(() => null, (e: Error) => e)
      t.match(err, { code: 'FST_FLEET_SESSION_TABLE_MISSING', message: new RegExp(`${missing}.*does not exist.*fastify-fleet/plugins/session/sql/.*createTable: true`) })
      await store.close()
    })

    t.test('createTable makes the table on first use; calls wait for it', async (t) => {
      const store = kind.store(pool, { tableName: table, createTable: true, pruneInterval: false })
      await Promise.all([store.set('a', { cookie: cookie(), user: 'ada' }), store.set('b', { cookie: cookie(), user: 'bob' })])
      t.equal((await store.get('a'))?.user, 'ada')
      t.equal(await store.length(), 2)
      await store.clear()
      await store.close()
    })

    t.test('prune deletes the expired rows in batches and leaves the live ones', async (t) => {
      let now = Date.now()
      const store = kind.store(pool, { tableName: table, pruneInterval: false, pruneBatch: 2, now: () => now })
      for (let i = 0; i < 5; i++) await store.set(`old${i}`, { cookie: cookie(60_000) })
      await store.set('live', { cookie: cookie(2 * HOUR) })
      now += HOUR
      const { pool: counted, statements } = countingPool(pool)
      const pruning = kind.store(counted, { tableName: table, pruneInterval: false, pruneBatch: 2, now: () => now })
      t.equal(await pruning.prune(), 5, 'five expired rows')
      // (MySqlStore's first use also checks the index on expires)
      t.strictSame(statements.filter((s) => s !== 'SELECT'), ['DELETE', 'DELETE', 'DELETE'], 'two, two, then one: a short batch ends the run')
      t.strictSame(await store.ids(), ['live'])
      t.equal((await kind.query(pool, `SELECT COUNT(*) AS n FROM ${kind.quote}${table}${kind.quote}`))[0]?.n?.toString(), '1', 'gone from the table')
      await pruning.close()
      await t.rejects(pruning.prune(), { code: 'FST_FLEET_SESSION_CLOSED' })
      await store.clear()
      await store.close()
    })

    t.test('the prune timer runs on its own, is unref\'d, logs its failures and stops on close', async (t) => {
      let now = Date.now()
      const timers = count('Timeout')
      const store = kind.store(pool, { tableName: table, pruneInterval: 0.05, now: () => now })
      t.equal(count('Timeout'), timers, 'its timer keeps no process alive')
      await store.set('old', { cookie: cookie(60_000) })
      now += HOUR
      for (let i = 0; i < 100 && (await kind.query(pool, `SELECT * FROM ${kind.quote}${table}${kind.quote}`)).length > 0; i++) await sleep(20)
      t.equal((await kind.query(pool, `SELECT * FROM ${kind.quote}${table}${kind.quote}`)).length, 0, 'pruned by the timer')
      await store.close()

      const logger = recordingLogger()
      const failing = kind.store(pool, { tableName: missing, pruneInterval: 0.02, logger })
      for (let i = 0; i < 100 && logger.lines.length < 2; i++) await sleep(20)
      await failing.close()
      t.ok(logger.lines.length >= 2, 'each failed prune is logged, and the timer goes on')
      t.match(logger.lines[0], { level: 'error', obj: { err: { code: 'FST_FLEET_SESSION_BACKEND', cause: { code: 'FST_FLEET_SESSION_TABLE_MISSING' } } } })
      const logged = logger.lines.length
      await sleep(100)
      t.equal(logger.lines.length, logged, 'no prune after close')
    })

    t.test('a rolling read route runs one SELECT per request, and no write while the expiry is fresh', async (t) => {
      const { pool: counted, statements } = countingPool(pool)
      for (const [touchAfter, perRead] of [[60, ['SELECT']], [0, ['SELECT', 'UPDATE']]] as const) {
        const store = kind.store(counted, { tableName: table, pruneInterval: false, touchAfter })
        const app = Fastify()
        await app.register(fastifyCookie)
        await app.register(fastifySession, { store, secret: 'a secret of at least thirty-two characters', rolling: true, saveUninitialized: false, cookie: { secure: false, maxAge: HOUR } })
        app.post('/login', async (req) => { req.session.set('user', 'ada'); return { ok: true } })
        app.get('/me', async (req) => ({ user: req.session.get('user') }))
        const login = await app.inject({ method: 'POST', url: '/login' })
        const sid = String(login.headers['set-cookie']).split(';')[0] as string
        statements.length = 0
        for (let i = 0; i < 5; i++) t.strictSame((await app.inject({ url: '/me', headers: { cookie: sid } })).json(), { user: 'ada' })
        t.strictSame(statements, Array(5).fill(perRead).flat(), `touchAfter ${touchAfter}: ${perRead.join(' + ')} per read`)
        await app.close()
        await store.clear()
        await store.close()
      }
    })

    t.test('rows that are not sessions read as no session, logged once each with a hashed id', async (t) => {
      const logger = recordingLogger()
      const store = kind.store(pool, { tableName: table, pruneInterval: false, logger })
      const later = Date.now() / 1000 + 3600
      const rows: Array<[string, string]> = [['array', '[1,2]'], ['string', '"text"'], ['null', 'null'], ['number', '42'], ['bad cookie', '{"cookie":"x"}'], ['bad expires', '{"cookie":{"expires":"soon"}}']]
      for (const [sid, text] of rows) await kind.query(pool, kind.insert(table), [sid, text, Math.ceil(later)])
      for (const [sid] of rows) t.equal(await store.get(sid), null, `${sid}: no session`)
      t.strictSame(logger.lines.map((l) => (l.obj.err as { code: string }).code), rows.map(() => 'FST_FLEET_SESSION_CORRUPT'))
      t.notOk(JSON.stringify(logger.lines.map((l) => [l.msg, l.obj])).includes('bad cookie'), 'the ids are not in the logs')
      await store.clear()
      await store.close()
    })

    t.test('a session id with SQL in it is a parameter, never text in a statement', async (t) => {
      const store = kind.store(pool, { tableName: table, pruneInterval: false })
      const sids = [`'; DROP TABLE ${table}; --`, '" OR 1=1 --', '\\\'; DELETE FROM x; #', 'ünï ✓']
      for (const sid of sids) await store.set(sid, { cookie: cookie(), sid })
      for (const sid of sids) t.equal((await store.get(sid))?.sid, sid, JSON.stringify(sid))
      t.equal(await store.length(), sids.length, 'the table is still there, with these rows only')
      await store.clear()
      await store.close()
    })

    t.test('a store of a url makes its pool on first use and ends it on close', async (t) => {
      // PostgreSQL: the server's count of connections named for this test (pg unrefs idle sockets);
      // MySQL: this process's sockets
      const name = uniqueTable('url')
      const connections = kind.name === 'PostgresStore'
        ? async () => Number((await kind.query(pool, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]))[0]?.n)
        : async () => count('TCPSocketWrap')
      const before = await connections()
      const store = kind.name === 'PostgresStore'
        ? new PostgresStore({ url: `${server.url}?application_name=${name}`, tableName: table, pruneInterval: false })
        : new MySqlStore({ url: server.url, tableName: table, pruneInterval: false })
      t.equal(await connections(), before, 'no connection before the first call')
      await store.set('u', { cookie: cookie(), user: 'ada' })
      t.equal((await store.get('u'))?.user, 'ada')
      t.ok(await connections() > before, 'connected')
      await store.destroy('u')
      await store.close()
      for (let i = 0; i < 50 && await connections() > before; i++) await sleep(10)
      t.equal(await connections(), before, 'its connections are closed')
    })

    if (kind.name === 'MySqlStore') {
      t.test('a store of a url captures no stack trace per query (mysql2 trace: false); a pool of yours keeps its own setting', async (t) => {
        // the driver's error (the cause of the coded one) carries the stack mysql2 captured at the
        // query, through the store's frames, only when the pool traces
        const causeStack = async (store: MySqlStore): Promise<string> => {
          const err = await store.get('x').then(() => null, (err: Error) => err)
          await store.close()
          t.match(err, { code: 'FST_FLEET_SESSION_TABLE_MISSING' })
          return String((err?.cause as Error | undefined)?.stack)
        }
        const missing = uniqueTable('nostack')
        t.match(await causeStack(new MySqlStore({ pool, tableName: missing, pruneInterval: false })), /sql-backend/, 'a pool of yours (trace on, mysql2\'s default): the stack of the call')
        t.notMatch(await causeStack(new MySqlStore({ url: server.url, tableName: missing, pruneInterval: false })), /sql-backend/, 'the pool made for url: no stack captured')
      })
    }
  })
}
