// Waiting in tests for something that happens on its own (a client noticing a lost server).

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Retries `fn` every 25 ms until it resolves or `ms` pass; then throws its last error. */
export async function eventually<T> (fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(25)
    }
  }
}
