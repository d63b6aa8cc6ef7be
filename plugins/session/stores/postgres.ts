import { createHash } from 'node:crypto'
import { FST_FLEET_SESSION_BACKEND } from '../errors.js'
import type { InvalidationChannel } from '../invalidation.js'
import { report } from '../log.js'
import { check, normalizeStoreOptions, splitOptions, type StoreLogger, type StoreOptions } from '../options.js'
import { BackendStore } from '../store.js'
import { listenSource, postgresChannelName, postgresInvalidation } from './postgres-invalidation.js'
import { lazyClient, SqlBackend, type SqlClient, type SqlDialect, type SqlStatements } from './sql-backend.js'
import { FST_FLEET_SESSION_DRIVER_MISSING } from './sql-errors.js'
import { identifier, poolOrUrl, SQL_DEFAULTS, sqlOptions, type SqlStoreOptions } from './sql-options.js'

/** A statement as the store hands it to `pg`: with a `name`, a prepared statement of the connection. */
export interface PgQuery {
  text: string
  values: unknown[]
  name?: string
}

/** The part of a `pg.Pool` (or a `pg.Client`) the store uses. */
export interface PgPoolLike {
  query: (query: PgQuery) => Promise<{ rows: Array<Record<string, unknown>>, rowCount: number | null }>
  end: () => Promise<void>
}

/** Options of `PostgresStore`: `pool` or `url`, not both. */
export interface PostgresStoreOptions extends SqlStoreOptions {
  /**
   * A `pg.Pool` (recommended: yours, with your TLS and pool settings). The store never ends it and
   * never listens on it: listen for `'error'` on it yourself, as pg asks (an idle client whose
   * server goes away emits one, and an unhandled `'error'` ends the process).
   * @default undefined (`url` instead)
   */
  pool?: PgPoolLike
  /**
   * A connection string (`postgres://user@host:5432/db`): the store makes a `pg.Pool` on first use
   * (the `pg` package must be installed), with connect and query timeouts of twice `timeout` (a
   * backstop that frees the pool; the caller's call fails after `timeout`), logs its
   * errors and ends it on `close()`.
   * @default undefined (`pool` instead)
   */
  url?: string
  /**
   * The schema of the table; unset, PostgreSQL's `search_path` finds it.
   * @default undefined
   */
  schemaName?: string
  /**
   * The table (connect-pg-simple's layout: `sid varchar PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL`).
   * @default 'session'
   */
  tableName?: string
  /**
   * Send the statements of a request (read, write, touch, destroy) as named prepared statements:
   * PostgreSQL parses and plans each once per connection instead of at every call, about half of
   * its work for a read. Turn it off behind a pooler that does not keep a connection's prepared
   * statements (PgBouncer in transaction mode before 1.21, or with `max_prepared_statements = 0`).
   * @default true
   */
  prepare?: boolean
}

export const POSTGRES_DEFAULTS = {
  ...SQL_DEFAULTS,
  tableName: 'session',
  prepare: true
} as const satisfies Required<Omit<PostgresStoreOptions, 'pool' | 'url' | 'schemaName' | keyof StoreOptions>>

const POSTGRES_KEYS = ['pool', 'url', 'schemaName', 'tableName', 'prepare', 'createTable', 'pruneInterval', 'pruneBatch'] as const

/** The SQL that makes the table and its index, as `postgres.sql` ships it for the default names. */
export function postgresCreateStatements (schemaName: string | undefined, tableName: string): string[] {
  const table = quotedTable(schemaName, tableName)
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (\n  "sid" varchar NOT NULL COLLATE "default",\n  "sess" json NOT NULL,\n  "expire" timestamp(6) NOT NULL,\n  CONSTRAINT "${tableName}_pkey" PRIMARY KEY ("sid")\n)`,
    `CREATE INDEX IF NOT EXISTS "IDX_${tableName}_expire" ON ${table} ("expire")`
  ]
}

const quotedTable = (schemaName: string | undefined, tableName: string): string =>
  schemaName === undefined ? `"${tableName}"` : `"${schemaName}"."${tableName}"`

/**
 * The statements over connect-pg-simple's table. `expire` is a `timestamp` without time zone,
 * written and read through the connection's `TimeZone` as connect-pg-simple does, so both read
 * each other's rows. Where many rows are scanned, times are compared as `timestamp`, so that the
 * index on `expire` serves; the one row of a `sid` is compared as it is (one conversion less).
 */
function statements (table: string, create: string[]): SqlStatements {
  const at = (n: number): string => `to_timestamp($${n})::timestamp`
  const live = (n: number): string => `sid = $${n} AND expire > to_timestamp($${n + 1})`
  return {
    read: `SELECT sess::text AS text, extract(epoch FROM expire::timestamptz)::float8 AS expires_at FROM ${table} WHERE sid = $1`,
    // converting the expiry through the time zone is a tenth of a read's work in PostgreSQL: left
    // out when this process already knows the expiry
    readText: `SELECT sess::text AS text FROM ${table} WHERE ${live(1)}`,
    write: `INSERT INTO ${table} (sid, sess, expire) VALUES ($1, $2, ${at(3)}) ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire`,
    refresh: `UPDATE ${table} SET expire = ${at(1)} WHERE ${live(2)}`,
    remove: `DELETE FROM ${table} WHERE sid = $1`,
    ids: `SELECT sid FROM ${table} WHERE expire > ${at(1)}`,
    count: `SELECT count(*)::int AS n FROM ${table} WHERE expire > ${at(1)}`,
    clear: `DELETE FROM ${table}`,
    prune: `DELETE FROM ${table} WHERE sid IN (SELECT sid FROM ${table} WHERE expire <= ${at(1)} LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    create
  }
}

/** PostgreSQL's codes for a table or a schema that does not exist. */
const MISSING = new Set(['42P01', '3F000'])

/**
 * The statements run at every request, each with the name it is prepared under: named after its
 * text, so that stores of other tables on the same pool never reuse a name for another statement.
 * The rarer ones (`ids`, `count`, `prune`) are planned afresh at each call, for the rows of the day.
 */
function preparedNames ({ read, readText, write, refresh, remove }: SqlStatements): Map<string, string> {
  const texts = [read, readText, write, refresh, remove].filter((text) => text !== undefined)
  return new Map(texts.map((text) => [text, `fleet_session_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`]))
}

const poolClient = (pool: PgPoolLike, names = new Map<string, string>()): SqlClient => ({
  run: (text, values) => pool.query({ text, values, name: names.get(text) }).then((result) => ({ rows: result.rows, affected: result.rowCount ?? 0 })),
  end: () => pool.end()
})

/** A `pg.Pool` for `url`, made on first use: bounded waits, its errors logged instead of ending the process. */
function urlClient (url: string, timeout: number, logger: StoreLogger | false | null, names?: Map<string, string>): SqlClient {
  return lazyClient(async () => {
    const pg = await import('pg').catch((err: unknown) => {
      /* c8 ignore next - only without the optional peer pg installed */
      throw new FST_FLEET_SESSION_DRIVER_MISSING('PostgresStore({ url })', 'pg', 'pg', { cause: err })
    })
    const pool = new pg.default.Pool({ connectionString: url, connectionTimeoutMillis: 2 * timeout, query_timeout: 2 * timeout, allowExitOnIdle: true })
    pool.on('error', (err) => { report(logger, 'error', new FST_FLEET_SESSION_BACKEND('the pool', err.message, { cause: err }), {}) })
    return poolClient(pool as unknown as PgPoolLike, names)
  })
}

const isPgPool = (value: unknown): value is PgPoolLike =>
  typeof (value as PgPoolLike | null)?.query === 'function' && typeof (value as PgPoolLike).end === 'function'

/**
 * Sessions in a PostgreSQL table, in connect-pg-simple's layout, so sessions written by
 * express-session + connect-pg-simple are read here and the other way round.
 *
 * Statements: `get` is one `SELECT` of the live row (of its text alone when this process already
 * knows its expiry), `set` one upsert (`INSERT ... ON CONFLICT
 * DO UPDATE`), a touch or an unchanged session one `UPDATE` of `expire` (none at all while write
 * elision skips it), `destroy` one `DELETE`; expired rows are never returned. These are prepared
 * statements (`prepare`). Every `pruneInterval`
 * seconds, expired rows are deleted `pruneBatch` at a time; `prune()` does it on demand.
 */
export class PostgresStore extends BackendStore {
  readonly #backend: SqlBackend
  readonly #client: SqlClient
  readonly #source: { pool: PgPoolLike } | { url: string }
  readonly #table: string

  constructor (options: PostgresStoreOptions) {
    const { own, common } = splitOptions(options, POSTGRES_KEYS)
    const source = poolOrUrl(own, isPgPool, 'a pg.Pool (an object with query() and end())')
    const schemaName = own.schemaName === undefined ? undefined : identifier('schemaName', own.schemaName, '')
    const tableName = identifier('tableName', own.tableName, POSTGRES_DEFAULTS.tableName)
    const prepare = check.boolean('prepare', own.prepare, POSTGRES_DEFAULTS.prepare)
    const create = postgresCreateStatements(schemaName, tableName)
    const dialect: SqlDialect = {
      statements: statements(quotedTable(schemaName, tableName), create),
      isMissingTable: (err) => MISSING.has((err as { code?: string } | null)?.code as string),
      table: quotedTable(schemaName, tableName),
      sqlFile: 'fastify-fleet/plugins/session/sql/postgres.sql',
      seconds: (ms) => ms / 1000
    }
    const settings = normalizeStoreOptions(common)
    const names = prepare ? preparedNames(dialect.statements) : undefined
    const client = 'pool' in source ? poolClient(source.pool, names) : urlClient(source.url, settings.timeout, settings.logger, names)
    const backend = new SqlBackend({ client, ownClient: !('pool' in source), dialect, ...sqlOptions(own, settings) })
    super(backend, common)
    this.#backend = backend
    this.#client = client
    this.#source = source
    this.#table = dialect.table
  }

  /**
   * A new channel for `TieredStore`'s invalidation: `NOTIFY` (`pg_notify()` through the pool) and
   * `LISTEN` on one connection the channel holds: checked out of the pool for good (the pool has
   * one connection less), or a `pg.Client` of `url` (`postgres-invalidation.ts`). The channel is
   * named after the table: `fastify-fleet:invalidate:<schema>.<table>`.
   */
  invalidationChannel (): InvalidationChannel {
    const client = this.#client
    return postgresInvalidation({
      name: postgresChannelName(this.#table),
      connect: listenSource(this.#source, this.options.timeout),
      notify: (name, payload) => client.run('SELECT pg_notify($1, $2)', [name, payload]),
      timeout: this.options.timeout
    })
  }

  /** Deletes the expired rows now (what the timer of `pruneInterval` does); resolves to how many. */
  async prune (): Promise<number> {
    return await this.#backend.prune()
  }
}
