// What only PostgresStore does, against the real PostgreSQL: schemas, and the errors of a pool it made.
import { test } from 'tap'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { PostgresStore } from '../../plugins/session/index.js'
import { postgresCreateStatements } from '../../plugins/session/stores/postgres.js'
import { requireService } from '../helpers/services.js'
import { countingPool, pgPool, uniqueTable } from '../helpers/sql.js'

const HOUR = 3_600_000
const cookie = (ms = HOUR): Record<string, unknown> => ({ expires: new Date(Date.now() + ms), originalMaxAge: ms })
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
  t.test('the statements of a request are prepared once per connection, under names that no other table shares', async (t) => {
    // one connection, so that pg_prepared_statements (a connection's own) shows all of them
    const single = pgPool(t, server.url, { max: 1 })
    const [a, b, unprepared] = [uniqueTable('prepared_a'), uniqueTable('prepared_b'), uniqueTable('prepared_c')]
    t.teardown(async () => { for (const table of [a, b, unprepared]) await pool.query(`DROP TABLE IF EXISTS "${schema}"."${table}"`) })
    const stores = [a, b].map((tableName) => new PostgresStore({ pool: single, schemaName: schema, tableName, createTable: true, pruneInterval: false }))
    const plain = new PostgresStore({ pool: single, schemaName: schema, tableName: unprepared, createTable: true, prepare: false, pruneInterval: false })
    for (let round = 0; round < 2; round++) {
      for (const [i, store] of [...stores, plain].entries()) {
        await store.set(`s${i}`, { cookie: cookie(), user: `u${i}` })
        t.equal((await store.get(`s${i}`))?.user, `u${i}`, 'each store reads its own table')
        await store.touch(`s${i}`, { cookie: cookie(2 * HOUR) })
        await store.destroy(`s${i}`)
        t.equal(await store.get(`s${i}`), null)
      }
    }
    const { rows } = await single.query<{ name: string, statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY statement')
    const firstWords = (table: string): string[] => rows.filter((r) => r.statement.includes(`"${table}"`)).map((r) => r.statement.split(' ')[0] as string)
    for (const table of [a, b]) t.strictSame(firstWords(table), ['DELETE', 'INSERT', 'SELECT', 'SELECT', 'UPDATE'], `${table}: read (with and without the expiry), write, touch, destroy`)
    t.strictSame(firstWords(unprepared), [], 'prepare: false prepares nothing')
    t.equal(rows.length, 10, 'each prepared once, though run twice')
    t.ok(rows.every((r) => /^fleet_session_[0-9a-f]{24}$/.test(r.name)), 'named fleet_session_ and a hash of the text')
    await Promise.all([...stores, plain].map((store) => store.close()))
  })

  t.test('a prepared statement follows its table when it is dropped and made again', async (t) => {
    const single = pgPool(t, server.url, { max: 1 })
    const tableName = uniqueTable('prepared_drop')
    const table = `"${schema}"."${tableName}"`
    t.teardown(() => pool.query(`DROP TABLE IF EXISTS ${table}`))
    const store = new PostgresStore({ pool: single, schemaName: schema, tableName, createTable: true, pruneInterval: false })
    await store.set('s', { cookie: cookie(), user: 'ada' })
    t.equal((await store.get('s'))?.user, 'ada')
    await pool.query(`DROP TABLE ${table}`)
    await t.rejects(store.get('s'), { code: 'FST_FLEET_SESSION_TABLE_MISSING' }, 'a missing table is still the coded error')
    for (const statement of postgresCreateStatements(schema, tableName)) await pool.query(statement)
    t.equal(await store.get('s'), null, 'the new, empty table is read')
    await store.set('s', { cookie: cookie(), user: 'grace' })
    t.equal((await store.get('s'))?.user, 'grace')
    await store.close()
  })
})
