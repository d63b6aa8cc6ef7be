// What only PostgresStore does, against the real PostgreSQL: schemas, and the errors of a pool it made.
import { test } from 'tap'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { PostgresStore } from '../../plugins/session/index.js'
import { requireService } from '../helpers/services.js'
import { countingPool, pgPool, uniqueTable } from '../helpers/sql.js'

const HOUR = 3_600_000
const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + HOUR), originalMaxAge: HOUR })
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('PostgresStore on the real server', async (t) => {
  const server = await requireService(t, 'postgres')
  if (server === null) return
  const pool = pgPool(t, server.url)
  const schema = uniqueTable('schema')
  t.teardown(() => pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))

  t.test('schemaName puts the table in that schema; a missing schema reads as a missing table', async (t) => {
    const missing = new PostgresStore({ pool, schemaName: schema, pruneInterval: false })
    await t.rejects(missing.get('s'), { code: 'FST_FLEET_SESSION_TABLE_MISSING', message: new RegExp(`"${schema}"."session" does not exist`) })
    await missing.close()
    await pool.query(`CREATE SCHEMA "${schema}"`)
    const store = new PostgresStore({ pool, schemaName: schema, createTable: true, pruneInterval: false })
    await store.set('s', { cookie: cookie(), user: 'ada' })
    const { rows } = await pool.query(`SELECT sess->>'user' AS user FROM "${schema}"."session" WHERE sid = 's'`)
    t.strictSame(rows, [{ user: 'ada' }], 'the row is in the schema\'s table')
    const indexes = await pool.query('SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema])
    t.strictSame(indexes.rows.map((r) => r.indexname), ['IDX_session_expire', 'session_pkey'], 'with connect-pg-simple\'s index names')
    await store.close()
  })

  t.test('a pool made from url logs the errors of its idle connections, and goes on', async (t) => {
    const name = uniqueTable('idle')
    const logger = recordingLogger()
    const store = new PostgresStore({ url: `${server.url}?application_name=${name}`, schemaName: schema, pruneInterval: false, logger })
    await store.set('idle', { cookie: cookie(), user: 'ada' })
    // the server ends the store's idle connection: pg emits 'error' on the pool
    await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name])
    for (let i = 0; i < 100 && logger.lines.length === 0; i++) await sleep(10)
    t.match(logger.lines, [{ level: 'error', obj: { err: { code: 'FST_FLEET_SESSION_BACKEND', message: /the pool failed/ } } }])
    t.equal((await store.get('idle'))?.user, 'ada', 'the next call gets a new connection')
    await store.destroy('idle')
    await store.close()
  })

  t.test('a session whose expiry this process knows is read without its expiry; another one with it, once', async (t) => {
    const { pool: watched, statements: sent } = countingPool(pool, (sql) =>
      sql.startsWith('SELECT') ? (sql.includes('expires_at') ? 'text and expiry' : 'text') : sql.split(' ')[0] as string)
    const writer = new PostgresStore({ pool, schemaName: schema, pruneInterval: false })
    const reader = new PostgresStore({ pool: watched, schemaName: schema, pruneInterval: false })
    await writer.set('known', { cookie: cookie(), user: 'ada' })
    for (let i = 0; i < 3; i++) t.equal((await reader.get('known'))?.user, 'ada')
    t.strictSame(sent, ['text and expiry', 'text', 'text'], 'written elsewhere: the expiry is read once, then the text alone')
    sent.length = 0
    await reader.set('mine', { cookie: cookie(), user: 'grace' })
    t.equal((await reader.get('mine'))?.user, 'grace')
    await reader.destroy('known')
    t.equal(await reader.get('known'), null, 'a destroyed session is not read from what this process knew')
    t.strictSame(sent, ['INSERT', 'text', 'DELETE', 'text and expiry'], 'written here: the text alone')
    sent.length = 0
    await writer.destroy('mine')
    t.equal(await reader.get('mine'), null, 'destroyed by another process: no session')
    t.strictSame(sent, ['text'])
    await Promise.all([writer.close(), reader.close()])
  })
})
