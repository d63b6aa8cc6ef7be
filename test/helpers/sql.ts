// Pools of the real PostgreSQL and MariaDB for the SQL store tests: a table name no other test
// uses, pools ended and tables dropped when the test ends, pools that count their statements, and
// each store's kind (its class, its pool, its raw SQL) so one test can cover both.
import mysql from 'mysql2/promise'
import pg from 'pg'
import {
  MySqlStore, PostgresStore, type MySqlPromisePoolLike, type MySqlStoreOptions, type PgPoolLike, type PostgresStoreOptions
} from '../../plugins/session/index.js'
import type { RedisServerTest } from './redis-server.js'
import type { ServiceName } from './services.js'

/** A table name no other test uses (letters, digits and `_`). */
export const uniqueTable = (label: string): string =>
  `fleet_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** A `pg.Pool` of `url`, its errors listened on, ended at teardown. */
export function pgPool (t: RedisServerTest, url: string, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000, ...options })
  pool.on('error', () => {})
  t.teardown(() => pool.end())
  return pool
}

/** A `mysql2/promise` pool of `url`, ended at teardown. */
export function mysqlPool (t: RedisServerTest, url: string, options: mysql.PoolOptions = {}): mysql.Pool {
  const pool = mysql.createPool({ uri: url, connectTimeout: 5000, ...options })
  t.teardown(() => pool.end())
  return pool
}

/** Drops the tables at teardown; register it after the pool (tap runs teardowns last first), so it runs before the pool ends. */
export function dropTables (t: RedisServerTest, run: (sql: string) => Promise<unknown>, tables: string[], quote: '"' | '`'): void {
  t.teardown(async () => {
    for (const table of tables) await run(`DROP TABLE IF EXISTS ${quote}${table}${quote}`)
  })
}

/** `pool` behind a proxy that records every statement it runs (its first word, or what `name` calls it), to count what reaches the database. */
export function countingPool<P extends PgPoolLike | MySqlPromisePoolLike> (pool: P, name = (sql: string): string => sql.split(' ')[0] as string): { pool: P, statements: string[] } {
  const statements: string[] = []
  const counted = new Proxy(pool, {
    get (target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop !== 'query') return typeof value === 'function' ? value.bind(target) : value
      // PostgresStore hands pg a query config ({ text, values, name }), MySqlStore mysql2 its text and values
      return (sql: string | { text: string }, values?: unknown[]) => {
        statements.push(name(typeof sql === 'string' ? sql : sql.text))
        return (value as (sql: unknown, values?: unknown[]) => unknown).call(target, sql, values)
      }
    }
  })
  return { pool: counted, statements }
}

type StoreOptions = Omit<PostgresStoreOptions & MySqlStoreOptions, 'pool'>

/** What a test needs to know of one SQL store. */
export interface SqlKind {
  name: 'PostgresStore' | 'MySqlStore'
  service: ServiceName
  /** A pool of `url`, ended at teardown. */
  pool: (t: RedisServerTest, url: string) => PgPoolLike & MySqlPromisePoolLike
  store: (pool: PgPoolLike | MySqlPromisePoolLike, options: StoreOptions) => PostgresStore | MySqlStore
  /** Runs raw SQL with `$1`-style or `?` parameters, as the dialect takes them. */
  query: (pool: unknown, sql: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>
  quote: '"' | '`'
  /** The SQL that plants a row `(sid, text, expires in seconds since the epoch)`. */
  insert: (table: string) => string
}

export const SQL_KINDS: SqlKind[] = [
  {
    name: 'PostgresStore',
    service: 'postgres',
    pool: (t, url) => pgPool(t, url) as unknown as PgPoolLike & MySqlPromisePoolLike,
    store: (pool, options) => new PostgresStore({ ...options, pool: pool as PgPoolLike }),
    query: async (pool, sql, values = []) => (await (pool as pg.Pool).query(sql, values)).rows,
    quote: '"',
    insert: (table) => `INSERT INTO "${table}" (sid, sess, expire) VALUES ($1, $2, to_timestamp($3)::timestamp)`
  },
  {
    name: 'MySqlStore',
    service: 'mysql',
    pool: (t, url) => mysqlPool(t, url) as unknown as PgPoolLike & MySqlPromisePoolLike,
    store: (pool, options) => new MySqlStore({ ...options, pool: pool as MySqlPromisePoolLike }),
    query: async (pool, sql, values = []) => {
      const [rows] = await (pool as mysql.Pool).query(sql, values)
      return Array.isArray(rows) ? rows as Array<Record<string, unknown>> : []
    },
    quote: '`',
    insert: (table) => `INSERT INTO \`${table}\` (session_id, data, expires) VALUES (?, ?, ?)`
  }
]
