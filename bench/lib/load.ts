/** Types shared by the load generators (h2load, autocannon). */

/** Parameters of one timed load. */
export interface LoadParams {
  /** Seconds. */
  duration: number
  /** Concurrent connections (autocannon) / clients (h2load). */
  connections: number
  /** Concurrent streams per HTTP/2 connection (h2load `-m`); HTTP/1.1 loads send one request at a time per connection. */
  streams: number
}

/** What one load measured. */
export interface LoadResult {
  /** Successful requests per second over the measured duration. */
  rps: number
  /** Successful requests. */
  requests: number
  /** Failed requests (connection errors, timeouts) plus responses whose status is not 2xx. */
  failures: number
  /** The part of `failures` that are answers whose status is not 2xx (the rest: errors and timeouts). */
  non2xx: number
  /** 99th percentile latency in ms, `NaN` when the tool does not report it (h2load). */
  p99Ms: number
  /** Mean latency in ms, `NaN` when unknown. */
  meanMs: number
  /** Application protocol the connections negotiated, when the tool tells (h2load: `h2`, `http/1.1`). */
  protocol?: string | undefined
  /** The scenario's own figures of this load (`LoadMetric`), by label; set by the runner. */
  metrics?: Record<string, number> | undefined
}

/** A load generator is not installed. */
export class ToolMissingError extends Error {
  constructor (readonly tool: string, hint?: string) {
    super(`${tool} not found${hint === undefined ? '' : ` (${hint})`}`)
    this.name = 'ToolMissingError'
  }
}
