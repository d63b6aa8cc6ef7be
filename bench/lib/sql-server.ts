/**
 * Harness side of the session scenarios on a SQL server (`scenarios/session-postgres.ts`,
 * `session-mysql.ts`): the shared server's URL, a `setup()` that makes one table per bench server
 * from the SQL file fastify-fleet ships (dropped again in `teardown()`), and the statements/request
 * metric. A server that does not answer makes the rows "not measured".
 */
import { readFile } from 'node:fs/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { ToolMissingError } from './load.js'
import { parseProcStat, processTreeCpu } from './process-cpu.js'
import { sendRequest } from './request.js'
import type { LoadMetric, Scenario, Target } from './scenario.js'
import { dropStatement, statementsPerRequest, tableStatements, type SqlDialectName } from './sql-tables.js'
import { STATEMENTS_PATH } from './statement-count.js'

/**
 * Each dialect's server: the variable that names it (as in `test/helpers/services.ts`), its default,
 * and the SQL file of its table in `plugins/session/sql/`.
 */
export const SQL_SERVERS: Record<SqlDialectName, { name: string, envVar: string, defaultUrl: string, sqlFile: string }> = {
  postgres: {
    name: 'PostgreSQL',
    envVar: 'DATABASE_URL',
    defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
    sqlFile: 'postgres.sql'
  },
  mysql: {
    name: 'MySQL/MariaDB',
    envVar: 'MYSQL_URL',
    defaultUrl: 'mysql://root@127.0.0.1:3306/test',
    sqlFile: 'mysql.sql'
  }
}

/** `plugins/session/sql/` of the package, from `dist/bench/lib/` (the SQL files ship there, uncompiled). */
const SQL_DIR = new URL('../../../plugins/session/sql/', import.meta.url)

/** The environment variables of the two tables of a scenario, read by the bench servers. */
export const TABLE_ENV = { fleet: 'SESSION_TABLE_FLEET', anchor: 'SESSION_TABLE_ANCHOR' } as const

/** The URL of a dialect's server: its variable when set and not empty, else the local default. */
export function sqlUrl (dialect: SqlDialectName, env: NodeJS.ProcessEnv = process.env): string {
  const { envVar, defaultUrl } = SQL_SERVERS[dialect]
  const value = env[envVar]
  return value === undefined || value === '' ? defaultUrl : value
}

/** The URL without its password, for messages. */
function shown (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.href
  } catch {
    return '(an invalid URL)'
  }
}

/** A SQL server that does not answer: its rows are "not measured" (the runner's `ToolMissingError`). */
export class SqlServerUnreachableError extends ToolMissingError {
  constructor (what: string, reason: string) {
    super(what)
    this.message = `${what} not reachable (${reason})`
    this.name = 'SqlServerUnreachableError'
  }
}

/** Errors of a connection that never reached a server (nothing listens, no route, no answer in time). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET'])
const unreachable = (err: unknown): boolean => UNREACHABLE.has((err as { code?: string } | null)?.code ?? '') ||
  /timeout|terminated unexpectedly/i.test((err as Error | null)?.message ?? '')

interface AdminConnection {
  run: (sql: string) => Promise<void>
  /** The first column of the first row. */
  value: (sql: string) => Promise<unknown>
  end: () => Promise<void>
}

/** One connection for the tables' DDL; a server that does not answer within 3 s is unreachable. */
async function connect (dialect: SqlDialectName, url: string): Promise<AdminConnection> {
  try {
    if (dialect === 'postgres') {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
      client.on('error', () => {})
      await client.connect()
      return {
        run: async (sql) => { await client.query(sql) },
        value: async (sql) => Object.values((await client.query(sql)).rows[0] ?? {})[0],
        end: async () => { await client.end() }
      }
    }
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 })
    connection.on('error', () => {})
    return {
      run: async (sql) => { await connection.query(sql) },
      value: async (sql) => Object.values(((await connection.query(sql))[0] as Array<Record<string, unknown>>)[0] ?? {})[0],
      end: async () => { await connection.end() }
    }
  } catch (err) {
    if (unreachable(err)) throw new SqlServerUnreachableError(`${SQL_SERVERS[dialect].name} at ${shown(url)}`, (err as Error).message)
    throw err
  }
}

let scenarioSeq = 0

/**
 * A scenario's `setup()` on the shared server of `dialect`: a table for the fleet server and one
 * for the anchor (`bench_session_<harness pid>_<n>_fleet` / `_anchor`), each made by the statements
 * of the shipped SQL file (`plugins/session/sql/<dialect>.sql`, so both sides get the same layout
 * and the same index on the expiry), dropped in `teardown()`. The servers get the URL and the table
 * names (`TABLE_ENV`) in their environment, and the statements/request metric is taken around
 * each load.
 */
export function sqlSessionSetup (dialect: SqlDialectName): NonNullable<Scenario['setup']> {
  return async () => {
    const { envVar, sqlFile } = SQL_SERVERS[dialect]
    const url = sqlUrl(dialect)
    const base = `bench_session_${process.pid}_${++scenarioSeq}`
    const tables = [`${base}_fleet`, `${base}_anchor`] as const
    const file = await readFile(new URL(sqlFile, SQL_DIR), 'utf8')
    const drop = async (): Promise<void> => {
      const admin = await connect(dialect, url)
      try {
        for (const table of tables) await admin.run(dropStatement(dialect, table))
      } finally {
        await admin.end()
      }
    }
    const admin = await connect(dialect, url)
    let serverPid: number | null
    try {
      for (const table of tables) {
        for (const sql of tableStatements(dialect, file, table)) await admin.run(sql)
      }
      serverPid = await localServerPid(dialect, admin)
    } catch (err) {
      await admin.end().catch(() => {})
      await drop().catch(() => {})
      throw err
    }
    await admin.end()
    return {
      env: { [envVar]: url, [TABLE_ENV.fleet]: tables[0], [TABLE_ENV.anchor]: tables[1] },
      metrics: serverPid === null ? [sqlStatementsMetric()] : [sqlStatementsMetric(), databaseCpuMetric(serverPid)],
      teardown: drop
    }
  }
}

/** What `/proc/<pid>/comm` says, `null` when there is no such process here. */
async function commandOf (pid: number): Promise<string | null> {
  return Number.isInteger(pid) && pid > 0 ? await readFile(`/proc/${pid}/comm`, 'utf8').then((text) => text.trim(), () => null) : null
}

/**
 * The pid of the database server when it runs on this machine (PostgreSQL's postmaster, the parent
 * of the admin connection's backend; MariaDB's or MySQL's one process, from its pid file), else
 * `null` (a server elsewhere, or no `/proc`).
 */
async function localServerPid (dialect: SqlDialectName, admin: AdminConnection): Promise<number | null> {
  if (dialect === 'postgres') {
    const backend = Number(await admin.value('SELECT pg_backend_pid()'))
    if (await commandOf(backend) !== 'postgres') return null
    const stat = parseProcStat(await readFile(`/proc/${backend}/stat`, 'utf8'))
    return stat !== null && await commandOf(stat.ppid) === 'postgres' ? stat.ppid : null
  }
  const pidFile = String(await admin.value('SELECT @@pid_file'))
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''))
  return ['mariadbd', 'mysqld'].includes(await commandOf(pid) ?? '') ? pid : null
}

/**
 * The CPU the database server used during a load (every process of it, with the connections that
 * ended meanwhile) per request answered or failed. The server is shared by the scenario's two
 * bench servers, which are loaded one at a time, so the figure is the load's, plus the server's
 * own background work (checkpoints, vacuum).
 */
export function databaseCpuMetric (serverPid: number, label = 'database CPU µs/request'): LoadMetric {
  return {
    label,
    start: async () => {
      const before = processTreeCpu(serverPid, '/proc', true)
      return async (result) => {
        const after = processTreeCpu(serverPid, '/proc', true)
        return before === null || after === null ? Number.NaN : (after - before) * 1e6 / (result.requests + result.failures)
      }
    }
  }
}

/** The count of statements a bench server's pool ran (`GET /bench/statements`, see `lib/statement-count.ts`). */
async function statementCount (target: Target): Promise<number> {
  const res = await sendRequest(target, { path: STATEMENTS_PATH })
  const count = res.status === 200 ? Number((JSON.parse(res.body) as { statements?: unknown }).statements) : Number.NaN
  if (!Number.isFinite(count)) throw new Error(`GET ${STATEMENTS_PATH} answered ${res.status}: ${res.body.slice(0, 200)}`)
  return count
}

/**
 * The statements the server's store sent during a load (its pool's count, read before and after)
 * per request answered or failed. Requests still in flight when the load stops may have sent theirs
 * before the second read, so the figure can read a little high (at most `connections` × statements
 * per request / requests).
 */
export function sqlStatementsMetric (label = 'SQL statements/request'): LoadMetric {
  return {
    label,
    start: async (target) => {
      const before = await statementCount(target)
      return async (result) => statementsPerRequest(before, await statementCount(target), result.requests + result.failures)
    }
  }
}
