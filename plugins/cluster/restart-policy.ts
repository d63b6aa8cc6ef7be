import type { RestartOptions } from './options.js'

/**
 * When to replace a worker that died, and when to give up: per slot, an exponential backoff
 * (`initialDelay` × `factor`ⁿ up to `maxDelay`, back to `initialDelay` after a worker of the slot
 * stayed up `resetAfter`); for the cluster, a crash loop when more than `maxRestarts` unexpected
 * exits fall within `window`, or when `maxRestarts` workers in a row die before `minUptime`.
 */
export class RestartPolicy {
  readonly #delays = new Map<number, number>()
  #exits: number[] = []
  #earlyInARow = 0

  constructor (private readonly opts: Required<RestartOptions>) {}

  /**
   * Records the unexpected exit of the worker of `slot` that was up `uptime` ms, at `now`; answers
   * the delay before its replacement, or why the cluster is in a crash loop.
   */
  exited (slot: number, uptime: number, now: number): { delay: number } | { crashLoop: string } {
    const { initialDelay, factor, maxDelay, resetAfter, maxRestarts, window, minUptime } = this.opts
    this.#exits = this.#exits.filter((at) => at > now - window)
    this.#exits.push(now)
    this.#earlyInARow = uptime < minUptime ? this.#earlyInARow + 1 : 0
    if (this.#exits.length > maxRestarts) {
      return { crashLoop: `${this.#exits.length} workers exited unexpectedly within ${window} ms (restart.maxRestarts: ${maxRestarts})` }
    }
    if (this.#earlyInARow >= maxRestarts) {
      return { crashLoop: `${this.#earlyInARow} workers in a row exited less than ${minUptime} ms after they started (restart.minUptime)` }
    }
    const previous = uptime >= resetAfter ? undefined : this.#delays.get(slot)
    const delay = previous === undefined ? initialDelay : Math.min(maxDelay, Math.round(previous * factor))
    this.#delays.set(slot, delay)
    return { delay }
  }
}
