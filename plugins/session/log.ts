import { hash } from 'node:crypto'
import type { StoreLogger } from './options.js'

/**
 * A short reference to a session id for logs: session ids are bearer secrets, so logs get the
 * first 12 hex digits of their SHA-256 instead (enough to correlate lines, useless to an attacker).
 */
export const sessionRef = (sid: string): string => hash('sha256', sid, 'hex').slice(0, 12)

/**
 * Logs `err` at `level` with the given logger; `null` (the default) emits it as a process
 * warning carrying its code; `false` drops it.
 */
export function report (logger: StoreLogger | false | null, level: 'warn' | 'error', err: Error, fields: Record<string, unknown>): void {
  if (logger === false) return
  if (logger === null) {
    process.emitWarning(err)
    return
  }
  logger[level]({ ...fields, err }, err.message)
}
