/**
 * A store's circuit breaker: after `failures` failed backend calls within `windowMs`, it opens and
 * calls fail at once (no connection attempt, no timeout to wait for) for `cooldownMs`; then it
 * half-opens: one call goes through as a probe, and its outcome closes the breaker or opens it
 * again. A success costs nothing; a failure, one timestamp.
 *
 * (Written here rather than taken from opossum: opossum wraps each call in its own promise chain and
 * rolling statistics, a cost on every session read of a store that answers in microseconds, and a
 * store already bounds its calls with a timeout; this is the state machine alone.)
 */

export type BreakerState = 'closed' | 'open' | 'half-open'

/** The breaker's settings, in milliseconds. */
export interface BreakerSettings {
  failures: number
  windowMs: number
  cooldownMs: number
}

/** What the breaker tells its owner: each change of state. */
export type BreakerListener = (state: BreakerState, previous: BreakerState) => void

export class CircuitBreaker {
  readonly #settings: BreakerSettings
  readonly #now: () => number
  readonly #changed: BreakerListener
  #state: BreakerState = 'closed'
  /** When the recent failures happened, oldest first (at most `failures` of them). */
  #failedAt: number[] = []
  #openedAt = 0
  #probing = false

  constructor (settings: BreakerSettings, now: () => number, changed: BreakerListener) {
    this.#settings = settings
    this.#now = now
    this.#changed = changed
  }

  get state (): BreakerState {
    return this.#state
  }

  /** Whether a call may go to the backend now; in half-open state, only the first (the probe). */
  admits (): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.#settings.cooldownMs) return false
      this.#move('half-open')
    }
    if (this.#probing) return false
    this.#probing = true
    return true
  }

  /** A call admitted by `admits()` succeeded. */
  succeeded (): void {
    if (this.#state === 'closed') return
    this.#probing = false
    this.#failedAt = []
    this.#move('closed')
  }

  /** A call admitted by `admits()` failed because of the backend. */
  failed (): void {
    const now = this.#now()
    if (this.#state === 'half-open') {
      this.#probing = false
      this.#open(now)
      return
    }
    if (this.#state === 'open') return
    const failedAt = this.#failedAt
    failedAt.push(now)
    if (failedAt.length > this.#settings.failures) failedAt.shift()
    if (failedAt.length === this.#settings.failures && now - (failedAt[0] as number) <= this.#settings.windowMs) this.#open(now)
  }

  #open (now: number): void {
    this.#openedAt = now
    this.#failedAt = []
    this.#move('open')
  }

  #move (state: BreakerState): void {
    const previous = this.#state
    this.#state = state
    this.#changed(state, previous)
  }
}
