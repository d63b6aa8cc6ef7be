// An Express app (express-session + connect-pg-simple) and a Fastify app (@fastify/session +
// PostgresStore) on one PostgreSQL table share live sessions both ways, over real HTTP: a team
// moving from Express keeps its table and its logged-in users. Each side's rows are checked as the
// other expects them: `sess` the session's JSON, `expire` its cookie's expiry.
import { promisify } from 'node:util'
import { test } from 'tap'
import { PostgresStore } from '../../plugins/session/index.js'
import { importUntyped, interopApps, sqlSessionsCross } from '../helpers/express-interop.js'
import { requireService } from '../helpers/services.js'
import { countingPool, dropTables, pgPool, uniqueTable } from '../helpers/sql.js'

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
    const modules = await importUntyped(t, ['express', 'express-session', 'connect-pg-simple'])
    if (modules === null) return
    const [{ default: express }, { default: session }, { default: connectPgSimple }] = modules
    const pool = pgPool(t, postgres.url, variant.timeZone === undefined ? {} : { options: `-c TimeZone=${variant.timeZone}` })
    const tableName = uniqueTable('express')
    const schemaName = variant.table === 'PostgresStore' ? undefined : uniqueTable('schema')
    if (schemaName === undefined) dropTables(t, (sql) => pool.query(sql), [tableName], '"')
    else {
      await pool.query(`CREATE SCHEMA "${schemaName}"`)
      t.teardown(async () => { await pool.query(`DROP SCHEMA IF EXISTS "${schemaName}" CASCADE`) })
    }
    const table = schemaName === undefined ? `"${tableName}"` : `"${schemaName}"."${tableName}"`

    // what the Fastify side runs is counted (the Express side uses the pool itself)
    const { pool: counted, statements } = countingPool(pool)
    const store = new PostgresStore({ pool: counted, schemaName, tableName, createTable: variant.table === 'PostgresStore', pruneInterval: false })
    t.teardown(() => store.close())
    if (variant.table === 'PostgresStore') t.equal(await store.length(), 0, 'PostgresStore made the table on its first call, before Express uses it')

    const PGStore = connectPgSimple(session)
    const pgStore = new PGStore({ pool, schemaName, tableName, createTableIfMissing: variant.table === 'connect-pg-simple', pruneSessionInterval: false })
    t.teardown(() => pgStore.close())
    const { call } = await interopApps(t, { express, session, expressStore: pgStore, fastifyStore: store })
    await sqlSessionsCross(t, call, {
      names: { express: 'connect-pg-simple', fastify: 'PostgresStore', data: 'sess', expires: 'expire' },
      // `expire` as an instant, through the connection's TimeZone as both stores read it
      row: async (sid) => {
        const { rows: [row] } = await pool.query(`SELECT sess, sess::text AS text, extract(epoch FROM expire::timestamptz)::float8 AS epoch FROM ${table} WHERE sid = $1`, [sid])
        return row === undefined ? undefined : { data: row.sess, text: row.text, expires: row.epoch * 1000 }
      },
      count: async () => (await pool.query(`SELECT sid FROM ${table}`)).rowCount ?? 0,
      statements,
      touch: async (sid, written, touched) => {
        await promisify(pgStore.set.bind(pgStore))(sid, written)
        await promisify(pgStore.touch.bind(pgStore))(sid, touched)
      }
    })
  })
}
