/**
 * How a store runs a call of its backend: what the backend throws or rejects with reaches the
 * caller coded (`FST_FLEET_SESSION_BACKEND`, ours as they are), and a promise is bounded by the
 * store's `timeout` (`FST_FLEET_SESSION_TIMEOUT`) with one timer for all calls (`PendingCalls`),
 * unless the backend times out by itself (`isTimeout`). A synchronous answer is returned as it is.
 * Failures and timeouts are counted and tell the circuit breaker, which may refuse a call at once
 * (`FST_FLEET_SESSION_UNAVAILABLE`).
 */
import { PendingCalls, type DeadlineEntry } from '../internal/pending-calls.js'
import { isThenable } from './async-call.js'
import type { MaybePromise, SessionBackend } from './backend.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import { FST_FLEET_SESSION_BACKEND, FST_FLEET_SESSION_TIMEOUT, FST_FLEET_SESSION_UNAVAILABLE } from './errors.js'

/** A backend call bounded by the store's `timeout`. */
interface BoundedCall extends DeadlineEntry {
  op: string
  reject: (err: Error) => void
  /** The breaker to tell of a timeout (`null` for an unguarded call). */
  breaker: CircuitBreaker | null
}

const isFleetError = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('FST_FLEET_SESSION_')

/** A backend's error as the caller gets it: ours as they are, any other as `FST_FLEET_SESSION_BACKEND`. */
const coded = (op: string, err: unknown): Error => isFleetError(err)
  ? err as Error
  : new FST_FLEET_SESSION_BACKEND(op, (err as Error)?.message ?? String(err), { cause: err })

/** How many backend calls failed, timed out, or were refused by the open breaker. */
export interface CallCounts {
  errors: number
  timeouts: number
  refused: number
}

export class BackendCalls {
  readonly counts: CallCounts = { errors: 0, timeouts: 0, refused: 0 }
  #pending: PendingCalls<BoundedCall> | undefined

  constructor (
    private readonly backend: SessionBackend,
    private readonly timeout: number,
    private readonly breaker: CircuitBreaker | null,
    /** `failures` and `window` of the breaker, for the refusal's message. */
    private readonly refusal: [number, number]
  ) {}

  /**
   * Runs `run` (a call of the backend named `op` in errors): coded, and bounded when it answers with
   * a promise; refused at once while the breaker is open, unless `guarded` is false (`close`).
   */
  run<T> (op: string, run: () => MaybePromise<T>, guarded = true): MaybePromise<T> {
    const breaker = guarded ? this.breaker : null
    if (breaker !== null && !breaker.admits()) {
      this.counts.refused++
      throw new FST_FLEET_SESSION_UNAVAILABLE(op, ...this.refusal)
    }
    let result: MaybePromise<T>
    try {
      result = run()
    } catch (err) {
      throw this.#failure(coded(op, err), breaker)
    }
    if (isThenable(result)) return this.#bounded(op, result, breaker)
    breaker?.succeeded()
    return result
  }

  /** `err` (coded) counted, and told to `breaker` when it says the backend failed. */
  #failure (err: Error, breaker: CircuitBreaker | null): Error {
    const code = (err as { code?: string }).code
    if (code === 'FST_FLEET_SESSION_TIMEOUT') this.counts.timeouts++
    else if (code === 'FST_FLEET_SESSION_BACKEND') this.counts.errors++
    else return err
    breaker?.failed()
    return err
  }

  #bounded<T> (op: string, result: PromiseLike<T>, breaker: CircuitBreaker | null): Promise<T> {
    const { timeout } = this
    const isTimeout = this.backend.isTimeout
    if (isTimeout !== undefined) {
      return Promise.resolve(result).then((value) => {
        breaker?.succeeded()
        return value
      }, (err: unknown) => {
        throw this.#failure(isTimeout(err) ? new FST_FLEET_SESSION_TIMEOUT(op, timeout) : coded(op, err), breaker)
      })
    }
    const pending = this.#pending ??= new PendingCalls<BoundedCall>((call) => { call.reject(this.#failure(new FST_FLEET_SESSION_TIMEOUT(call.op, timeout), call.breaker)) })
    return new Promise<T>((resolve, reject) => {
      const id = pending.add({ deadline: performance.now() + timeout, op, reject, breaker })
      // an answer after the deadline (the call expired: no longer pending) changes nothing
      result.then((value) => {
        if (pending.take(id) === undefined) return
        breaker?.succeeded()
        resolve(value)
      }, (err: unknown) => {
        if (pending.take(id) !== undefined) reject(this.#failure(coded(op, err), breaker))
      })
    })
  }
}
