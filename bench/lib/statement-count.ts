/**
 * Server side of the SQL scenarios' statements-per-request figure: the bench server wraps its pool's
 * statement methods to count every call a store makes (each call is one statement on the server:
 * pg sends one extended-protocol query, mysql2's `query` one `COM_QUERY`), and answers the count on
 * `GET /bench/statements`; the harness reads it before and after each measured load
 * (`sqlStatementsMetric()` in `lib/sql-server.ts`).
 */
import type { FastifyInstance } from 'fastify'

/** The route that answers `{ statements: <count> }`. */
export const STATEMENTS_PATH = '/bench/statements'

/** A running count. */
export interface CallCounter {
  readonly count: number
}

/**
 * Wraps `methods` of `target` in place (own properties over its prototype's) so that every call is
 * counted, then runs the original with the same `this` and arguments. A method that `target` does not
 * have is left alone. `rewrite`, when given, may change the method and arguments a call goes to
 * (the prepared-statement experiment of `session-sql-shared.ts`).
 */
export function countCalls<T extends object> (
  target: T,
  methods: ReadonlyArray<keyof T & string>,
  rewrite?: (method: string, args: unknown[]) => { method: string, args: unknown[] }
): CallCounter {
  const counter = { count: 0 }
  const originals = new Map<string, (...args: unknown[]) => unknown>()
  for (const name of methods) {
    const original = target[name]
    if (typeof original === 'function') originals.set(name, original as (...args: unknown[]) => unknown)
  }
  for (const [name, original] of originals) {
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]): unknown {
        counter.count++
        if (rewrite === undefined) return original.apply(this, args)
        const call = rewrite(name, args)
        return (originals.get(call.method) ?? original).apply(this, call.args)
      }
    })
  }
  return counter
}

/** Adds `GET /bench/statements` (before `listen`); a request without a session cookie costs the store nothing. */
export function addStatementsRoute (app: FastifyInstance<any, any, any, any, any>, counter: CallCounter): void {
  app.get(STATEMENTS_PATH, async () => ({ statements: counter.count }))
}
