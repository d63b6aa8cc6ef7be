import { X509Certificate } from 'node:crypto'
import type { AcmeLogger } from '../../plugins/server/index.js'

/** One log call recorded by `recordingLogger()`. */
export interface LogLine {
  level: 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string
}

/** A logger that records every call (pino's `(obj, msg)` form). */
export function recordingLogger (): AcmeLogger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (obj: object, msg: string): void => { lines.push({ level, obj: obj as Record<string, unknown>, msg }) }
  return { lines, info: at('info'), warn: at('warn'), error: at('error') }
}

/** The leaf of a PEM chain. */
export const leafOf = (pem: string): X509Certificate => new X509Certificate(pem)
