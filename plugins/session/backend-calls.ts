/**
 * How a store runs a call of its backend: what the backend throws or rejects with reaches the
 * caller coded (`FST_FLEET_SESSION_BACKEND`, ours as they are), and a promise is bounded by the
 * store's `timeout` (`FST_FLEET_SESSION_TIMEOUT`) with one timer for all calls (`PendingCalls`),
 * unless the backend times out by itself (`isTimeout`). A synchronous answer is returned as it is.
 */
import { PendingCalls, type DeadlineEntry } from '../internal/pending-calls.js'
import { isThenable } from './async-call.js'
import type { MaybePromise, SessionBackend } from './backend.js'
import { FST_FLEET_SESSION_BACKEND, FST_FLEET_SESSION_TIMEOUT } from './errors.js'

/** A backend call bounded by the store's `timeout`. */
interface BoundedCall extends DeadlineEntry {
  op: string
  reject: (err: Error) => void
}

const isFleetError = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('FST_FLEET_SESSION_')

/** A backend's error as the caller gets it: ours as they are, any other as `FST_FLEET_SESSION_BACKEND`. */
const coded = (op: string, err: unknown): Error => isFleetError(err)
  ? err as Error
  : new FST_FLEET_SESSION_BACKEND(op, (err as Error)?.message ?? String(err), { cause: err })

export class BackendCalls {
  #pending: PendingCalls<BoundedCall> | undefined

  constructor (private readonly backend: SessionBackend, private readonly timeout: number) {}

  /** Runs `run` (a call of the backend named `op` in errors): coded, and bounded when it answers with a promise. */
  run<T> (op: string, run: () => MaybePromise<T>): MaybePromise<T> {
    let result: MaybePromise<T>
    try {
      result = run()
    } catch (err) {
      throw coded(op, err)
    }
    return isThenable(result) ? this.#bounded(op, result) : result
  }

  #bounded<T> (op: string, result: PromiseLike<T>): Promise<T> {
    const { timeout } = this
    const isTimeout = this.backend.isTimeout
    if (isTimeout !== undefined) {
      return Promise.resolve(result).then(undefined, (err: unknown) => {
        throw isTimeout(err) ? new FST_FLEET_SESSION_TIMEOUT(op, timeout) : coded(op, err)
      })
    }
    const pending = this.#pending ??= new PendingCalls<BoundedCall>((call) => { call.reject(new FST_FLEET_SESSION_TIMEOUT(call.op, timeout)) })
    return new Promise<T>((resolve, reject) => {
      const id = pending.add({ deadline: performance.now() + timeout, op, reject })
      // an answer after the deadline (the call expired: no longer pending) changes nothing
      result.then((value) => {
        if (pending.take(id) !== undefined) resolve(value)
      }, (err: unknown) => {
        if (pending.take(id) !== undefined) reject(coded(op, err))
      })
    })
  }
}
