/** Pure: autocannon's options and result (the load itself is run by `autocannon.ts`). */
import type { LoadParams, LoadResult } from './load.js'
import type { LoadRequest, Target } from './scenario.js'

/** The part of autocannon's result object the harness reads (autocannon 8). */
export interface AutocannonResult {
  /** Seconds. */
  duration: number
  requests: { total: number, average: number }
  latency: { p99: number, average: number }
  errors: number
  timeouts: number
  non2xx: number
}

/** autocannon's result as a `LoadResult`: req/s = completed requests / duration; failures = errors (timeouts included) + non-2xx. */
export function autocannonResult (result: AutocannonResult): LoadResult {
  const ok = Math.max(0, result.requests.total - result.non2xx)
  return {
    rps: result.duration > 0 ? ok / result.duration : Number.NaN,
    requests: ok,
    failures: result.errors + result.non2xx,
    non2xx: result.non2xx,
    p99Ms: result.latency.p99,
    meanMs: result.latency.average
  }
}

/** autocannon options of one timed run (HTTP/1.1, one request in flight per connection, no retries). */
export function autocannonOptions (target: Target, request: LoadRequest, params: LoadParams): Record<string, unknown> {
  const opts: Record<string, unknown> = {
    url: `${target.origin}${request.path}`,
    method: request.method,
    headers: request.headers,
    connections: params.connections,
    pipelining: 1,
    duration: params.duration,
    timeout: 10
  }
  if (request.body !== undefined) opts.body = request.body
  return opts
}
