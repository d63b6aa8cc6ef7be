// Shared by the session-*-postgres and session-*-mysql bench servers (not a server itself): the one pool
// setup both stores of a dialect get (pg Pool `max: 10`, mysql2/promise pool `connectionLimit: 10`,
// otherwise the drivers' defaults, on the URL the scenario passes), wrapped to count the statements
// the store sends (`GET /bench/statements`, lib/statement-count.ts), each server's table (made and
// dropped by the scenario) and `rolling` (SESSION_ROLLING=false for the row that reads without saving).
//
// SESSION_SQL_PREPARED=true (not set by the scenarios; an experiment by hand) sends every statement
// as a prepared one: pg gets a named query (`{ name, text, values }`: parsed once per connection),
// mysql2 `execute` instead of `query` (a server-side prepared statement, cached per connection).
import type { FastifyInstance } from 'fastify'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { serve } from '../lib/serve.js'
import { TABLE_ENV } from '../lib/sql-server.js'
import { addStatementsRoute, countCalls, type CallCounter } from '../lib/statement-count.js'

/** @fastify/session's `rolling`: `true` unless `SESSION_ROLLING=false`. */
export const rolling = process.env.SESSION_ROLLING !== 'false'

const prepared = process.env.SESSION_SQL_PREPARED === 'true'

/** The pool size of both sides. */
export const POOL_SIZE = 10

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set (the session-postgres and session-mysql scenarios set it)`)
  return value
}

/** The table the scenario made for this side. */
export const tableName = (side: keyof typeof TABLE_ENV): string => required(TABLE_ENV[side])

/** A pg Pool on `DATABASE_URL` (`max: 10`), its statements counted. */
export function pgPool (): { pool: pg.Pool, statements: CallCounter } {
  const pool = new pg.Pool({ connectionString: required('DATABASE_URL'), max: POOL_SIZE })
  pool.on('error', (err) => { process.stderr.write(`pg pool: ${err.message}\n`) })
  const names = new Map<string, string>()
  const named = (text: string): string => {
    let name = names.get(text)
    if (name === undefined) names.set(text, name = `bench_${names.size}`)
    return name
  }
  const statements = countCalls(pool, ['query'], prepared
    ? (method, args) => typeof args[0] === 'string'
        ? { method, args: [{ name: named(args[0]), text: args[0], values: args[1] }, ...args.slice(2)] }
        : { method, args }
    : undefined)
  return { pool, statements }
}

/**
 * A mysql2/promise pool on `MYSQL_URL` (`connectionLimit: 10`), its statements counted; mysql2's
 * default `trace` (a stack captured at every query) unless `SESSION_MYSQL_TRACE=false`.
 */
export function mysqlPool (): { pool: mysql.Pool, statements: CallCounter } {
  const pool = mysql.createPool({ uri: required('MYSQL_URL'), connectionLimit: POOL_SIZE, trace: process.env.SESSION_MYSQL_TRACE !== 'false' })
  const statements = countCalls(pool, ['query', 'execute'], prepared
    ? (method, args) => ({ method: method === 'query' ? 'execute' : method, args })
    : undefined)
  return { pool, statements }
}

/** `serve()` with `GET /bench/statements` added. */
export async function serveCounted (app: FastifyInstance<any, any, any, any, any>, statements: CallCounter): Promise<void> {
  addStatementsRoute(app, statements)
  await serve(app)
}
