import { report } from '../log.js'
import { normalizeStoreOptions, splitOptions, type StoreLogger, type StoreOptions } from '../options.js'
import { BackendStore } from '../store.js'
import { lazyClient, SqlBackend, type SqlClient, type SqlDialect, type SqlStatements } from './sql-backend.js'
import { FST_FLEET_SESSION_DRIVER_MISSING, FST_FLEET_SESSION_EXPIRES_INDEX_MISSING } from './sql-errors.js'
import { identifier, poolOrUrl, SQL_DEFAULTS, sqlOptions, type SqlStoreOptions } from './sql-options.js'

/** The part of a `mysql2/promise` pool the store uses. */
export interface MySqlPromisePoolLike {
  query: (sql: string, values: unknown[]) => Promise<[unknown, unknown]>
  end: () => Promise<void>
}

/** The part of a `mysql2` callback pool the store uses: its promise wrapper. */
export interface MySqlCallbackPoolLike {
  promise: () => MySqlPromisePoolLike
}

/** Options of `MySqlStore`: `pool` or `url`, not both. */
export interface MySqlStoreOptions extends SqlStoreOptions {
  /**
   * A `mysql2` pool, promise API (`mysql2/promise`'s `createPool`) or callback API (`mysql2`'s).
   * The store never ends it.
   * @default undefined (`url` instead)
   */
  pool?: MySqlPromisePoolLike | MySqlCallbackPoolLike
  /**
   * A connection URL (`mysql://user:password@host:3306/db`): the store makes a `mysql2` pool on
   * first use (the `mysql2` package must be installed), with connect and query timeouts of twice
   * `timeout` (a backstop that frees the pool; the caller's call fails after `timeout`) and
   * without a stack trace captured per query (`trace: false`), and ends it on `close()`.
   * @default undefined (`pool` instead)
   */
  url?: string
  /**
   * The table, in the current database (express-mysql-session's layout: `session_id varchar(128)
   * PRIMARY KEY, expires int unsigned NOT NULL, data mediumtext`).
   * @default 'sessions'
   */
  tableName?: string
}

export const MYSQL_DEFAULTS = {
  ...SQL_DEFAULTS,
  tableName: 'sessions'
} as const satisfies Required<Omit<MySqlStoreOptions, 'pool' | 'url' | keyof StoreOptions>>

const MYSQL_KEYS = ['pool', 'url', 'tableName', 'createTable', 'pruneInterval', 'pruneBatch'] as const

/** The SQL that makes the table with its index on `expires`, as `mysql.sql` ships it for the default name. */
export function mysqlCreateStatements (tableName: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS \`${tableName}\` (\n  \`session_id\` varchar(128) COLLATE utf8mb4_bin NOT NULL,\n  \`expires\` int unsigned NOT NULL,\n  \`data\` mediumtext COLLATE utf8mb4_bin,\n  PRIMARY KEY (\`session_id\`),\n  KEY \`expires\` (\`expires\`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  ]
}

/**
 * The statements over express-mysql-session's table. `expires` holds whole seconds: an expiry is
 * rounded down (a session ends less than a second before its cookie, never after it; rounded up, a
 * rolled expiry would look earlier than the stored one, and write elision could not skip it). So
 * is now: against whole seconds, `expires > now` reads the same, and MySQL compares integers.
 * A missing `data` (the column allows NULL) reads as unparsable text.
 */
function statements (table: string, create: string[]): SqlStatements {
  return {
    read: `SELECT COALESCE(data, '') AS text, expires AS expires_at FROM ${table} WHERE session_id = ?`,
    write: `INSERT INTO ${table} (session_id, data, expires) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE data = VALUES(data), expires = VALUES(expires)`,
    refresh: `UPDATE ${table} SET expires = ? WHERE session_id = ? AND expires > ?`,
    remove: `DELETE FROM ${table} WHERE session_id = ?`,
    ids: `SELECT session_id AS sid FROM ${table} WHERE expires > ?`,
    count: `SELECT COUNT(*) AS n FROM ${table} WHERE expires > ?`,
    clear: `DELETE FROM ${table}`,
    prune: `DELETE FROM ${table} WHERE expires <= ? LIMIT ?`,
    create
  }
}

/** The driver's error number of a table that does not exist. */
const ER_NO_SUCH_TABLE = 1146

/** `queryTimeout`: milliseconds after which mysql2 gives up a statement (on the pool the store makes). */
const poolClient = (pool: MySqlPromisePoolLike, queryTimeout?: number): SqlClient => ({
  run: (sql, values) => pool.query(queryTimeout === undefined ? sql : { sql, timeout: queryTimeout } as never, values).then(([result]) => Array.isArray(result)
    ? { rows: result as Array<Record<string, unknown>>, affected: 0 }
    : { rows: [], affected: (result as { affectedRows: number }).affectedRows }),
  end: () => pool.end()
})

/** A `mysql2` pool for `url`, made on first use, with bounded connects and statements. */
function urlClient (url: string, timeout: number): SqlClient {
  return lazyClient(async () => {
    const mysql = await import('mysql2/promise').catch((err: unknown) => {
      /* c8 ignore next - only without the optional peer mysql2 installed */
      throw new FST_FLEET_SESSION_DRIVER_MISSING('MySqlStore({ url })', 'mysql2', 'mysql2', { cause: err })
    })
    // trace: false: mysql2's promise API otherwise captures a stack trace at every query, for its
    // errors' stacks (the store's coded errors say where the call came from, the driver's is their cause)
    return poolClient(mysql.createPool({ uri: url, connectTimeout: 2 * timeout, charset: 'utf8mb4_bin', trace: false }) as unknown as MySqlPromisePoolLike, 2 * timeout)
  })
}

/** Warns once when the table exists without an index that starts with `expires`. */
function checkIndex (tableName: string, logger: StoreLogger | false | null): (client: SqlClient) => Promise<void> {
  return async (client) => {
    const where = 'table_schema = DATABASE() AND table_name = ?'
    const { rows } = await client.run(
      `SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE ${where}) AS has_table, ` +
      `(SELECT COUNT(*) FROM information_schema.statistics WHERE ${where} AND column_name = 'expires' AND seq_in_index = 1) AS has_index`,
      [tableName, tableName])
    const found = rows[0] as { has_table: number | string, has_index: number | string }
    if (Number(found.has_table) > 0 && Number(found.has_index) === 0) {
      const fix = `ALTER TABLE \`${tableName}\` ADD INDEX \`expires\` (\`expires\`)`
      report(logger, 'warn', new FST_FLEET_SESSION_EXPIRES_INDEX_MISSING(`\`${tableName}\``, 'expires', fix), {})
    }
  }
}

/** A callback pool has `promise()` (and `query()`, taking a callback); a promise pool has not. */
const isCallbackPool = (value: unknown): value is MySqlCallbackPoolLike =>
  typeof (value as MySqlCallbackPoolLike | null)?.promise === 'function'
const isMySqlPool = (value: unknown): value is MySqlPromisePoolLike | MySqlCallbackPoolLike => isCallbackPool(value) ||
  (typeof (value as MySqlPromisePoolLike | null)?.query === 'function' && typeof (value as MySqlPromisePoolLike).end === 'function')

/**
 * Sessions in a MySQL 8 or MariaDB 10.6+ table, in express-mysql-session's layout (plus an index
 * on `expires`), so sessions written by express-session + express-mysql-session are read here and
 * the other way round.
 *
 * Statements: `get` is one `SELECT` of the live row, `set` one upsert (`INSERT ... ON DUPLICATE
 * KEY UPDATE`), a touch or an unchanged session one `UPDATE` of `expires` (none at all while write
 * elision skips it), `destroy` one `DELETE`; expired rows are never returned. Every `pruneInterval`
 * seconds, expired rows are deleted `pruneBatch` at a time; `prune()` does it on demand. On first
 * use it checks the index on `expires` and warns once (`FST_FLEET_SESSION_EXPIRES_INDEX_MISSING`)
 * when there is none.
 */
export class MySqlStore extends BackendStore {
  readonly #backend: SqlBackend

  constructor (options: MySqlStoreOptions) {
    const { own, common } = splitOptions(options, MYSQL_KEYS)
    const source = poolOrUrl(own, isMySqlPool, 'a mysql2 pool (promise or callback API)')
    const tableName = identifier('tableName', own.tableName, MYSQL_DEFAULTS.tableName)
    const settings = normalizeStoreOptions(common)
    const table = `\`${tableName}\``
    const dialect: SqlDialect = {
      statements: statements(table, mysqlCreateStatements(tableName)),
      isMissingTable: (err) => (err as { errno?: number } | null)?.errno === ER_NO_SUCH_TABLE,
      table,
      sqlFile: 'fastify-fleet/plugins/session/sql/mysql.sql',
      seconds: (ms) => Math.floor(ms / 1000),
      check: checkIndex(tableName, settings.logger)
    }
    let client: SqlClient
    if ('url' in source) client = urlClient(source.url, settings.timeout)
    else client = poolClient(isCallbackPool(source.pool) ? source.pool.promise() : source.pool)
    const backend = new SqlBackend({ client, ownClient: 'url' in source, dialect, ...sqlOptions(own, settings) })
    super(backend, common)
    this.#backend = backend
  }

  /** Deletes the expired rows now (what the timer of `pruneInterval` does); resolves to how many. */
  async prune (): Promise<number> {
    return await this.#backend.prune()
  }
}
