/**
 * What `PostgresStore` and `MySqlStore` share: a `SessionBackend` over one table, one statement per
 * call, the table made on first use when asked (`createTable`), a missing table reported with the
 * SQL to run, and the prune of expired rows in bounded batches on an unref'd, jittered timer. Each
 * store brings its dialect: the statements, how a time is passed and read back, and how its driver
 * says that a table is missing.
 */
import type { SessionBackend, StoredSession } from '../backend.js'
import { FST_FLEET_SESSION_BACKEND, FST_FLEET_SESSION_CLOSED } from '../errors.js'
import { report } from '../log.js'
import type { StoreLogger } from '../options.js'
import { FST_FLEET_SESSION_TABLE_MISSING } from './sql-errors.js'

/** What a statement gave: its rows (a SELECT), and how many rows it changed. */
export interface SqlResult {
  rows: Array<Record<string, unknown>>
  affected: number
}

/** A connection pool as the backend uses it: one statement with its parameters, and the end of the pool. */
export interface SqlClient {
  run: (sql: string, params: unknown[]) => Promise<SqlResult>
  end: () => Promise<void>
}

/**
 * The statements of a dialect, with positional parameters in the order given. Times are passed in
 * seconds since the epoch as the dialect's `seconds` gives them, and read back in seconds. Each
 * `read` row has `text` and `expires_at`, each `ids` row `sid`, the `count` row `n`. A row is live
 * while `now` is before its expiry.
 */
export interface SqlStatements {
  /**
   * `(sid)`: the row of `sid`, live or not (the backend drops an expired one: a filter on `expires`
   * in the statement costs MySQL more than the comparison costs here).
   */
  read: string
  /**
   * Optional, `(sid, now)`: the live row's `text` alone, for a dialect whose `read` costs more for
   * its expiry (PostgresStore converts a `timestamp` through the time zone).
   */
  readText?: string
  /** `(sid, text, expiresAt)`: an upsert. */
  write: string
  /** `(expiresAt, sid, now)`: moves the expiry of a live row. */
  refresh: string
  /** `(sid)` */
  remove: string
  /** `(now)` */
  ids: string
  /** `(now)` */
  count: string
  /** `()` */
  clear: string
  /** `(now, limit)`: deletes at most `limit` expired rows. */
  prune: string
  /** Run in order by `createTable`. */
  create: string[]
}

/** How one database differs. */
export interface SqlDialect {
  statements: SqlStatements
  /** Whether the driver's error says the table does not exist. */
  isMissingTable: (err: unknown) => boolean
  /** The table as named in messages (`"public"."session"`). */
  table: string
  /** The SQL file that creates it, as shipped (`fastify-fleet/plugins/session/sql/postgres.sql`). */
  sqlFile: string
  /** A time (ms since the epoch) as the statements take it: seconds, with decimals or rounded down. */
  seconds: (ms: number) => number
  /** Runs once after the table is known to be there (MySqlStore checks its index). */
  check?: (client: SqlClient) => Promise<void>
}

/** The settings of a SQL backend. */
export interface SqlBackendSettings {
  client: SqlClient
  /** End `client` on `close()` (a pool the store made). */
  ownClient: boolean
  dialect: SqlDialect
  createTable: boolean
  /** Milliseconds between prunes, `false`: none. */
  pruneInterval: number | false
  /** Rows per `DELETE` of a prune. */
  pruneBatch: number
  now: () => number
  logger: StoreLogger | false | null
}

/** A prune every `interval` ms, give or take a quarter, so that hosts started together do not prune together. */
const jittered = (interval: number): number => interval * (0.75 + Math.random() * 0.5)

export class SqlBackend implements SessionBackend {
  readonly #settings: SqlBackendSettings
  readonly #statements: SqlStatements
  readonly #seconds: (ms: number) => number
  /** Whether the first use's setup (making the table, the dialect's check) has succeeded, or there is none. */
  #ready: boolean
  #setup: Promise<void> | null = null
  #timer: NodeJS.Timeout | undefined
  /** The prune the timer started, until it ends: `close()` waits for it. */
  #pruning: Promise<void> | null = null
  #closed = false
  /** The text alone (`SessionBackend.readText`), when the dialect has a statement for it. */
  readonly readText?: (sid: string) => Promise<string | null>

  constructor (settings: SqlBackendSettings) {
    this.#settings = settings
    this.#statements = settings.dialect.statements
    this.#seconds = settings.dialect.seconds
    const { readText } = this.#statements
    if (readText !== undefined) {
      this.readText = (sid) => this.#run(readText, [sid, this.#seconds(settings.now())]).then(({ rows }) => rows[0] === undefined ? null : String(rows[0].text))
    }
    this.#ready = !settings.createTable && settings.dialect.check === undefined
    if (settings.pruneInterval !== false) this.#schedulePrune(settings.pruneInterval)
  }

  read (sid: string): Promise<StoredSession | null> {
    return this.#run(this.#statements.read, [sid]).then(({ rows }) => {
      const row = rows[0]
      if (row === undefined) return null
      const expiresAt = Math.round(Number(row.expires_at) * 1000)
      return expiresAt > this.#settings.now() ? { text: String(row.text), expiresAt } : null
    })
  }

  async write (sid: string, text: string, expiresAt: number): Promise<void> {
    await this.#run(this.#statements.write, [sid, text, this.#seconds(expiresAt)])
  }

  refresh (sid: string, expiresAt: number): Promise<boolean> {
    return this.#run(this.#statements.refresh, [this.#seconds(expiresAt), sid, this.#seconds(this.#settings.now())]).then(({ affected }) => affected > 0)
  }

  async remove (sid: string): Promise<void> {
    await this.#run(this.#statements.remove, [sid])
  }

  async ids (): Promise<string[]> {
    const { rows } = await this.#run(this.#statements.ids, [this.#seconds(this.#settings.now())])
    return rows.map((row) => String(row.sid))
  }

  async count (): Promise<number> {
    const { rows } = await this.#run(this.#statements.count, [this.#seconds(this.#settings.now())])
    return Number(rows[0]?.n)
  }

  async clear (): Promise<void> {
    await this.#run(this.#statements.clear, [])
  }

  /**
   * Deletes the expired rows, `pruneBatch` at a time (each `DELETE` a short transaction, so a large
   * backlog never locks the table for long), until a batch comes back short; returns how many.
   */
  async prune (): Promise<number> {
    if (this.#closed) throw new FST_FLEET_SESSION_CLOSED('prune')
    const { pruneBatch, now } = this.#settings
    let total = 0
    for (;;) {
      const { affected } = await this.#run(this.#statements.prune, [this.#seconds(now()), pruneBatch])
      total += affected
      if (affected < pruneBatch || this.#closed) return total
    }
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#pruning
    if (this.#settings.ownClient) await this.#settings.client.end()
  }

  #schedulePrune (interval: number): void {
    this.#timer = setTimeout(() => {
      this.#pruning = this.prune().then(() => {}, (err: unknown) => {
        report(this.#settings.logger, 'error', new FST_FLEET_SESSION_BACKEND('prune', (err as Error).message, { cause: err }), {})
      }).finally(() => {
        this.#pruning = null
        if (!this.#closed) this.#schedulePrune(interval)
      })
    }, jittered(interval))
    this.#timer.unref()
  }

  /** Runs a statement once the setup is done; a missing table comes out as `FST_FLEET_SESSION_TABLE_MISSING`. */
  #run (sql: string, params: unknown[]): Promise<SqlResult> {
    const { client, dialect } = this.#settings
    const run = (): Promise<SqlResult> => client.run(sql, params).catch((err: unknown) => {
      throw dialect.isMissingTable(err) ? new FST_FLEET_SESSION_TABLE_MISSING(dialect.table, dialect.sqlFile, { cause: err }) : err
    })
    if (this.#ready) return run()
    return (this.#setup ??= this.#firstUse()).then(run)
  }

  /** Makes the table (`createTable`) and runs the dialect's check; tried again on the next call if it fails. */
  async #firstUse (): Promise<void> {
    const { client, dialect, createTable } = this.#settings
    try {
      if (createTable) for (const sql of this.#statements.create) await client.run(sql, [])
      await dialect.check?.(client)
      this.#ready = true
    } catch (err) {
      this.#setup = null
      throw err
    }
  }
}

/** A client made on first use (a driver loaded with `import()`, a pool from a URL); made again if that failed. */
export function lazyClient (make: () => Promise<SqlClient>): SqlClient {
  let made: Promise<SqlClient> | undefined
  const client = (): Promise<SqlClient> => {
    made ??= make().catch((err: unknown) => {
      made = undefined
      throw err
    })
    return made
  }
  return {
    run: (sql, params) => client().then((c) => c.run(sql, params)),
    end: async () => { await made?.then((c) => c.end(), () => {}) }
  }
}

/** A table or schema name the stores accept (letters, digits, `_`, `$`; not starting with a digit): quoted safely in any dialect. */
export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/
