/** Pure: h2load's command line and the summary it prints (the process itself is run by `h2load.ts`). */
import type { LoadParams, LoadResult } from './load.js'
import type { LoadRequest } from './scenario.js'

/** What `parseH2loadOutput()` reads from h2load's summary. */
export interface H2loadSummary {
  /** `finished in <elapsed>`, in milliseconds (includes the warm-up time, if any). */
  elapsedMs: number
  /** `<x> req/s`: h2load's own figure (completed requests, whatever their status, over the measured duration). */
  rps: number
  requests: {
    total: number
    started: number
    done: number
    /** Requests answered with a 2xx or 3xx status. */
    succeeded: number
    /** Errored and timed-out requests, and responses with a 4xx or 5xx status. */
    failed: number
    errored: number
    timeout: number
  }
  /** Counted when the status arrives during the measured duration (a stream still open at the end counts, a status received in the warm-up does not). */
  status: { '2xx': number, '3xx': number, '4xx': number, '5xx': number }
  /** `time for request` mean, in milliseconds; `NaN` when absent. */
  meanMs: number
  /** `Application protocol: h2` (`h2c` over `http:`; `undefined` when no connection was made). */
  protocol: string | undefined
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses an h2load duration (`783us`, `5.01ms`, `3.01s`) into milliseconds; `NaN` when it is not one. */
export function parseH2loadDuration (text: string): number {
  const match = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(text.trim())
  if (match === null) return Number.NaN
  const value = Number(match[1])
  // Microseconds divide: 0.001 has no exact binary form (958 * 0.001 = 0.9580000000000001, 958 / 1000 = 0.958).
  return match[2] === 'us' ? value / 1000 : value * UNIT_MS[match[2]!]!
}

/**
 * Parses the summary h2load prints at the end of a run (nghttp2 1.4x–1.6x format):
 *
 * ```
 * finished in 3.01s, 19785.00 req/s, 1003.46KB/s
 * requests: 39570 total, 39570 started, 39570 done, 39570 succeeded, 0 failed, 0 errored, 0 timeout
 * status codes: 39500 2xx, 0 3xx, 0 4xx, 0 5xx
 * time for request:      783us     27.28ms      5.01ms      2.55ms    83.98%
 * ```
 *
 * Throws when the `finished in` or `requests:` line is missing (h2load did not run to the end).
 */
export function parseH2loadOutput (stdout: string): H2loadSummary {
  const finished = /^finished in (\S+), ([\d.]+) req\/s/m.exec(stdout)
  const requests = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(stdout)
  if (finished === null || requests === null) {
    throw new Error('h2load output has no summary ("finished in …" / "requests: …" lines)')
  }
  const status = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(stdout)
  const timeForRequest = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(stdout)
  const protocol = /^Application protocol: (\S+)/m.exec(stdout)
  const n = (m: RegExpExecArray | null, i: number): number => Number(m?.[i] ?? 0)
  return {
    elapsedMs: parseH2loadDuration(finished[1]!),
    rps: Number(finished[2]),
    requests: {
      total: n(requests, 1),
      started: n(requests, 2),
      done: n(requests, 3),
      succeeded: n(requests, 4),
      failed: n(requests, 5),
      errored: n(requests, 6),
      timeout: n(requests, 7)
    },
    status: { '2xx': n(status, 1), '3xx': n(status, 2), '4xx': n(status, 3), '5xx': n(status, 4) },
    meanMs: timeForRequest === null ? Number.NaN : parseH2loadDuration(timeForRequest[3]!),
    protocol: protocol?.[1]
  }
}

/**
 * h2load's summary as a `LoadResult`; req/s counts successful requests only. Failures = failed requests + 3xx responses: h2load's `failed` already
 * counts errored and timed-out requests and 4xx/5xx responses, and counts 3xx responses as succeeded.
 * Throws when no request completed (no connection to the server, or no response within the duration):
 * such a run measured nothing, it must not read as 0 req/s with 0 failures.
 */
export function h2loadResult (summary: H2loadSummary): LoadResult {
  const { requests, status } = summary
  if (requests.done === 0) {
    throw new Error(`h2load completed no request (${requests.started} started): no connection to the server, or no response within the duration`)
  }
  const failures = requests.failed + status['3xx']
  return {
    // like autocannon's figure: successful requests per second, so a server that fails fast never looks fast
    rps: summary.rps * (requests.done - failures) / requests.done,
    requests: requests.succeeded,
    failures,
    // statuses that arrived on streams still open at the end are in `status` but not in `failed`
    non2xx: Math.min(failures, status['3xx'] + status['4xx'] + status['5xx']),
    p99Ms: Number.NaN,
    meanMs: summary.meanMs,
    protocol: summary.protocol
  }
}

/**
 * Command-line arguments of one timed h2load run: `-D` (in ms, as h2load takes no fractions of
 * a second) makes it timing-based, so `-n` is not given (h2load ignores it with `-D`). The method
 * goes in a `:method` header when it is not GET, and always with a body (`-d` alone makes h2load send POST).
 */
export function h2loadArgs (url: string, request: LoadRequest, params: LoadParams, bodyFile?: string): string[] {
  const args = [
    '-c', String(params.connections),
    '-m', String(params.streams),
    '-t', '1',
    '-D', `${Math.max(1, Math.round(params.duration * 1000))}ms`
  ]
  if (request.method !== 'GET' || bodyFile !== undefined) args.push('-H', `:method: ${request.method}`)
  for (const [name, value] of Object.entries(request.headers)) args.push('-H', `${name}: ${value}`)
  if (bodyFile !== undefined) args.push('-d', bodyFile)
  args.push(url)
  return args
}
