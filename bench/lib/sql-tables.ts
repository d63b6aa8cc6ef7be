/**
 * Pure: the session tables of the SQL scenarios, from the SQL files fastify-fleet ships
 * (`plugins/session/sql/postgres.sql`, `mysql.sql`) with the table renamed, and their `DROP`.
 */

/** The SQL servers the session scenarios run on. */
export type SqlDialectName = 'postgres' | 'mysql'

/** The table name each shipped SQL file uses, and how the dialect quotes identifiers. */
export const SHIPPED_TABLES: Record<SqlDialectName, { table: string, quote: string }> = {
  postgres: { table: 'session', quote: '"' },
  mysql: { table: 'sessions', quote: '`' }
}

/** A table name the scenarios make: letters, digits and `_`, short enough for PostgreSQL's 63 with `IDX_…_expire`. */
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,47}$/

/**
 * The statements of a shipped SQL file with its table renamed `table`: comment lines dropped, split
 * at the `;` that end statements, and the default table name replaced inside every quoted identifier
 * (PostgreSQL's `"session"`, `"session_pkey"`, `"IDX_session_expire"`; MySQL's `` `sessions` ``,
 * which `` `session_id` `` does not contain). Throws when the file names no such table.
 */
export function tableStatements (dialect: SqlDialectName, sqlFile: string, table: string): string[] {
  if (!TABLE_NAME.test(table)) throw new RangeError(`not a bench table name: ${JSON.stringify(table)}`)
  const { table: shipped, quote } = SHIPPED_TABLES[dialect]
  const code = sqlFile.split('\n').filter((line) => !line.trimStart().startsWith('--')).join('\n')
  let renamed = 0
  const identifier = new RegExp(`${quote}[^${quote}]*${quote}`, 'g')
  const text = code.replace(identifier, (quoted) => {
    const next = quoted.replaceAll(shipped, table)
    if (next !== quoted) renamed++
    return next
  })
  if (renamed === 0) throw new Error(`the ${dialect} SQL file names no ${quote}${shipped}${quote} table`)
  return text.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter((s) => s !== '')
}

/** `DROP TABLE IF EXISTS` of a bench table. */
export function dropStatement (dialect: SqlDialectName, table: string): string {
  if (!TABLE_NAME.test(table)) throw new RangeError(`not a bench table name: ${JSON.stringify(table)}`)
  const { quote } = SHIPPED_TABLES[dialect]
  return `DROP TABLE IF EXISTS ${quote}${table}${quote}`
}

/** Statements run during a load per request answered or failed; `NaN` without requests. */
export function statementsPerRequest (before: number, after: number, requests: number): number {
  return requests > 0 ? (after - before) / requests : Number.NaN
}
