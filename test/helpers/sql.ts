// Pools of the real PostgreSQL and MariaDB for the SQL store tests: a table name no other test
// uses, pools ended and tables dropped when the test ends, and pools that count their statements.
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { MySqlPromisePoolLike, PgPoolLike } from '../../plugins/session/index.js'
import type { RedisServerTest } from './redis-server.js'

/** A table name no other test uses (letters, digits and `_`). */
export const uniqueTable = (label: string): string =>
  `fleet_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** A `pg.Pool` of `url`, its errors listened on, ended at teardown (after `dropTables`). */
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

/** `pool` behind a proxy that records every statement it runs, to count what reaches the database. */
export function countingPool<P extends PgPoolLike | MySqlPromisePoolLike> (pool: P): { pool: P, statements: string[] } {
  const statements: string[] = []
  const counted = new Proxy(pool, {
    get (target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop !== 'query') return typeof value === 'function' ? value.bind(target) : value
      return (sql: string, values: unknown[]) => {
        statements.push(sql.split(' ')[0] as string)
        return (value as (sql: string, values: unknown[]) => unknown).call(target, sql, values)
      }
    }
  })
  return { pool: counted, statements }
}
