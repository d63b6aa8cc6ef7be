/** The options `PostgresStore` and `MySqlStore` share, and their checks. */
import { check, type NormalizedStoreOptions, type StoreOptions } from '../options.js'
import { SQL_IDENTIFIER, type SqlBackendSettings } from './sql-backend.js'

/** Options of both SQL stores. */
export interface SqlStoreOptions extends StoreOptions {
  /**
   * Create the table and its index on first use (`CREATE ... IF NOT EXISTS`); else run the SQL
   * file shipped with the package (`fastify-fleet/plugins/session/sql/postgres.sql` or `mysql.sql`) in your
   * migrations.
   * @default false
   */
  createTable?: boolean
  /**
   * Seconds between prunes of expired rows (each host waits 75–125 % of it, on an unref'd timer);
   * `false`: no prune (call `prune()` yourself).
   * @default 900
   */
  pruneInterval?: number | false
  /**
   * Rows deleted per statement of a prune, so that a large backlog never locks the table for long.
   * @default 1000
   */
  pruneBatch?: number
}

export const SQL_DEFAULTS = {
  createTable: false,
  pruneInterval: 900,
  pruneBatch: 1000
} as const satisfies Required<Omit<SqlStoreOptions, keyof StoreOptions>>

/** The longest delay `setTimeout()` takes, in seconds. */
const MAX_INTERVAL = (2 ** 31 - 1) / 1000

/** The options both SQL stores share, checked (`pruneInterval` in milliseconds), with the store's clock and logger. */
export function sqlOptions (own: Record<string, unknown>, settings: NormalizedStoreOptions): Omit<SqlBackendSettings, 'client' | 'ownClient' | 'dialect'> {
  return {
    now: settings.now,
    logger: settings.logger,
    createTable: check.boolean('createTable', own.createTable, SQL_DEFAULTS.createTable),
    pruneInterval: own.pruneInterval === false
      ? false
      : check.number('pruneInterval', own.pruneInterval, SQL_DEFAULTS.pruneInterval, { min: 0.001, max: MAX_INTERVAL }) * 1000,
    pruneBatch: check.number('pruneBatch', own.pruneBatch, SQL_DEFAULTS.pruneBatch, { min: 1, integer: true })
  }
}

/** `pool` or `url` of the options: exactly one of them. */
export function poolOrUrl<P> (own: Record<string, unknown>, isPool: (value: unknown) => value is P, what: string): { pool: P } | { url: string } {
  if (own.pool !== undefined && own.url !== undefined) check.invalid('pool', 'give pool or url, not both')
  if (own.pool !== undefined) return isPool(own.pool) ? { pool: own.pool } : check.invalid('pool', `expected ${what}`)
  if (own.url === undefined) check.invalid('pool', 'give pool (recommended) or url')
  return { url: check.string('url', own.url, '') }
}

/** A table or schema name, or refused: it is put in statements, quoted. */
export function identifier (name: string, value: unknown, fallback: string): string {
  const text = check.string(name, value, fallback)
  return SQL_IDENTIFIER.test(text)
    ? text
    : check.invalid(name, `expected letters, digits, _ or $, not starting with a digit, at most 63, got ${JSON.stringify(text)}`)
}
