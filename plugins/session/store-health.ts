/**
 * What a store tells about itself: `stats()` (counters since it was made) and `health()` (whether
 * its backend answers now), for metrics and readiness endpoints; and the log line of each change
 * of its circuit breaker.
 */
import type { BreakerState } from './circuit-breaker.js'
import { FST_FLEET_SESSION_BREAKER } from './errors.js'
import { report } from './log.js'
import type { StoreLogger } from './options.js'

/** Counters of a store since it was made, and its breaker's state. */
export interface StoreStats {
  /** `get` calls that found a session. */
  hits: number
  /** `get` calls that found none (absent, expired, unreadable, or the backend down with `readPolicy: 'miss'`). */
  misses: number
  /** Backend calls that failed (`FST_FLEET_SESSION_BACKEND`). */
  errors: number
  /** Backend calls cut by `timeout` (`FST_FLEET_SESSION_TIMEOUT`). */
  timeouts: number
  /** Calls refused at once by the open breaker (`FST_FLEET_SESSION_UNAVAILABLE`). */
  refused: number
  /** How many times the breaker opened. */
  breakerOpened: number
  /** `null` without a breaker (`breaker: false`). */
  breaker: BreakerState | null
}

/** Whether the backend answers now, for a readiness endpoint. */
export interface StoreHealth {
  ok: boolean
  breaker: BreakerState | null
  /** Why not, when `ok` is false. */
  error?: { code: string, message: string }
}

/** The session id `health()` reads: any answer, a session or none, shows the backend is up. */
export const HEALTH_PROBE_ID = 'fastify-fleet-health-probe'

const OUTAGE = new Set(['FST_FLEET_SESSION_BACKEND', 'FST_FLEET_SESSION_TIMEOUT', 'FST_FLEET_SESSION_UNAVAILABLE'])

/** Whether `err` says the backend is down (what `readPolicy: 'miss'` turns into "no session"). */
export const isOutage = (err: unknown): boolean => OUTAGE.has((err as { code?: string } | null)?.code as string)

/** Logs a change of the breaker: `error` when it opens, `warn` otherwise. */
export function logBreaker (logger: StoreLogger | false | null, state: BreakerState, previous: BreakerState): void {
  report(logger, state === 'open' ? 'error' : 'warn', new FST_FLEET_SESSION_BREAKER(state, previous), { breaker: state })
}
