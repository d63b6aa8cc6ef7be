import { isThenable } from '../internal/thenable.js'
import type { MaybePromise } from './backend.js'

export { isThenable }
export type { MaybePromise }

/** Node-style callback of the store methods. */
export type StoreCallback<T = void> = (err: Error | null, value?: T) => void

/**
 * The dual API over a call that answers synchronously or with a promise: without a callback, a
 * promise is returned (rejected when `run` throws); with one, the outcome goes to it and nothing is
 * returned. The callback always runs after the method has returned, whether the backend answered
 * at once or later: a store calls back at the same point in every mode. A callback that throws is
 * the caller's bug: the error is thrown again on the next tick (an uncaught exception, as with
 * Node's own callbacks), not swallowed, not turned into an unhandled rejection, and not thrown into
 * the store's caller.
 */
export function deliver<T> (run: () => MaybePromise<T>, callback: StoreCallback<T> | null | undefined): Promise<T> | undefined {
  let result: MaybePromise<T>
  try {
    result = run()
  } catch (err) {
    if (callback == null) return Promise.reject(err)
    process.nextTick(guarded, callback, err as Error)
    return undefined
  }
  if (isThenable(result)) {
    if (callback == null) return result as Promise<T>
    result.then((value) => { guarded(callback, null, value) }, (err: Error) => { guarded(callback, err) })
    return undefined
  }
  if (callback == null) return Promise.resolve(result)
  process.nextTick(guarded, callback, null, result)
  return undefined
}

function guarded<T> (callback: StoreCallback<T>, err: Error | null, value?: T): void {
  try {
    if (err === null) callback(null, value)
    else callback(err)
  } catch (thrown) {
    process.nextTick(() => { throw thrown })
  }
}

/** `next(value)`, once `value` has settled when it is a promise (a rejection passes through). */
export function chain<T, R> (value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? (value as Promise<T>).then(next) : next(value)
}
