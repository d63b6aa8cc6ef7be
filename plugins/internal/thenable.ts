/** Whether `value` is a promise (any thenable) rather than a plain value. */
export function isThenable<T> (value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
}
