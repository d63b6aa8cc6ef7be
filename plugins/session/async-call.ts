/** A value, or a promise of it: backends answer either way. */
export type MaybePromise<T> = T | Promise<T>

/** Node-style callback of the store methods. */
export type StoreCallback<T = void> = (err: Error | null, value?: T) => void

export { isThenable } from '../internal/thenable.js'

/**
 * The dual API: without a callback the promise is returned; with one, the promise's outcome goes
 * to it and nothing is returned. A callback that throws is the caller's bug: the error is thrown
 * again on the next tick (an uncaught exception, as with Node's own callbacks), not swallowed and not
 * turned into an unhandled rejection.
 */
export function settle<T> (promise: Promise<T>, callback: StoreCallback<T> | null | undefined): Promise<T> | undefined {
  if (callback == null) return promise
  promise.then((value) => { callback(null, value) }, (err: Error) => { callback(err) })
    .catch((err: unknown) => process.nextTick(() => { throw err }))
  return undefined
}

/**
 * `promise`, or a rejection with `onTimeout()` once `ms` have passed. The timer is cleared as soon
 * as the promise settles; while a call is pending it keeps the process alive (at most `ms`), so a
 * caller awaiting an answer gets one, the timeout error at worst.
 */
export function withTimeout<T> (promise: PromiseLike<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    promise.then(
      (value) => { clearTimeout(timer); resolve(value) },
      (err: unknown) => { clearTimeout(timer); reject(err) }
    )
  })
}
