import { createRequire } from 'node:module'
import { autocannonOptions, autocannonResult, type AutocannonResult } from './autocannon-pure.js'
import { ToolMissingError, type LoadParams, type LoadResult } from './load.js'
import type { LoadRequest, Target } from './scenario.js'

export { autocannonOptions, autocannonResult, type AutocannonResult } from './autocannon-pure.js'

interface AutocannonInstance { stop: () => void }
type AutocannonFn = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance

let loaded: { fn: AutocannonFn, version: string } | null | undefined

/** Loads autocannon once; `null` when it is not installed. */
function load (): { fn: AutocannonFn, version: string } | null {
  if (loaded !== undefined) return loaded
  const require = createRequire(import.meta.url)
  try {
    // autocannon is CommonJS without bundled types: load it through require with a local interface.
    const fn = require('autocannon') as AutocannonFn
    const { version } = require('autocannon/package.json') as { version: string }
    loaded = { fn, version: `autocannon ${version}` }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err
    loaded = null
  }
  return loaded
}

/** `autocannon <version>`, or `null` when autocannon is not installed. */
export function autocannonVersion (): string | null {
  return load()?.version ?? null
}

/**
 * One autocannon run against `target` (HTTP/1.1; over TLS autocannon never checks the certificate,
 * so the self-signed dev certificate is accepted, and it sends no ALPN, so an HTTP/2 server with
 * `allowHTTP1` falls back to HTTP/1.1). Stopped when `signal` aborts or `duration + 30 s` passes.
 */
export function runAutocannon (target: Target, request: LoadRequest, params: LoadParams, signal?: AbortSignal): Promise<LoadResult> {
  const ac = load()
  if (ac === null) return Promise.reject(new ToolMissingError('autocannon', 'npm install --save-dev autocannon'))
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (err: Error | null, result?: AutocannonResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (err !== null) reject(err)
      else if (result === undefined) reject(new Error('autocannon gave no result'))
      else resolve(autocannonResult(result))
    }
    // `cancel` runs only from the timer or the abort listener, both after `instance` is set.
    const cancel = (reason: Error): void => {
      if (settled) return
      instance?.stop()
      finish(reason)
    }
    const onAbort = (): void => cancel(new Error('aborted'))
    if (signal?.aborted === true) return reject(new Error('aborted'))
    const timer = setTimeout(() => cancel(new Error(`autocannon did not finish within ${params.duration + 30} s`)), params.duration * 1000 + 30_000)
    signal?.addEventListener('abort', onAbort, { once: true })
    let instance: AutocannonInstance | undefined
    try {
      instance = ac.fn(autocannonOptions(target, request, params), finish)
    } catch (err) {
      finish(err as Error)
    }
  })
}
