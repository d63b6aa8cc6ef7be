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

/** A call `Deadlines` bounds. */
interface Bounded {
  /** `performance.now()` past which it fails. */
  deadline: number
  fail: () => void
  settled: boolean
}

/**
 * Bounds promises by `ms` with one timer for all of them instead of one each (a timer set and
 * cleared per call costs several times the call's own promise). Every call gets the same `ms`,
 * so deadlines come in order: the timer runs for the oldest call still pending and, when it
 * fires, fails the calls past their deadline and runs again for the next one. A call fails
 * within a millisecond or two of its deadline. While a call is pending the timer keeps the process
 * alive (at most `ms`); once none is, it no longer does.
 */
export class Deadlines {
  readonly #ms: number
  readonly #queue: Bounded[] = []
  #head = 0
  #pending = 0
  #timer: NodeJS.Timeout | null = null

  constructor (ms: number) {
    this.#ms = ms
  }

  /**
   * `promise`, or a rejection with `onTimeout()` once `ms` have passed. `onError`: what a rejection
   * of `promise` becomes (as it is without one).
   */
  bound<T> (promise: PromiseLike<T>, onTimeout: () => Error, onError?: (err: unknown) => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: Bounded = { deadline: performance.now() + this.#ms, fail: () => reject(onTimeout()), settled: false }
      this.#queue.push(call)
      if (this.#pending++ === 0) this.#hold()
      promise.then((value) => {
        if (this.#settle(call)) resolve(value)
      }, (err: unknown) => {
        if (this.#settle(call)) reject(onError === undefined ? err : onError(err))
      })
    })
  }

  /** Marks `call` settled; `false` when it already was (it timed out). */
  #settle (call: Bounded): boolean {
    if (call.settled) return false
    call.settled = true
    if (--this.#pending === 0) this.#timer?.unref()
    this.#drop()
    return true
  }

  /** Arms the timer, or makes the armed one keep the process alive again. */
  #hold (): void {
    if (this.#timer === null) this.#arm(this.#ms)
    else this.#timer.ref()
  }

  /** Runs the timer `delay` ms from now; only while a call is pending (it holds the process). */
  #arm (delay: number): void {
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(delay)))
  }

  /** Removes the settled calls at the head of the queue. */
  #drop (): void {
    const queue = this.#queue
    while (this.#head < queue.length && queue[this.#head]!.settled) this.#head++
    if (this.#head === queue.length) {
      queue.length = 0
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head)
      this.#head = 0
    }
  }

  readonly #expire = (): void => {
    this.#timer = null
    const now = performance.now()
    const queue = this.#queue
    while (this.#head < queue.length) {
      const call = queue[this.#head]!
      if (!call.settled) {
        if (call.deadline > now) break
        call.settled = true
        this.#pending--
        call.fail()
      }
      this.#head++
    }
    this.#drop()
    if (this.#head < queue.length) this.#arm(queue[this.#head]!.deadline - now)
  }
}
