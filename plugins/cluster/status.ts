import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import type { WorkerInfo } from './primary.js'

/** A process's memory, in bytes (from `process.memoryUsage()`). */
export interface MemoryStatus {
  rss: number
  heapUsed: number
}

/**
 * A process's event-loop delay since the previous report, in milliseconds past the 20 ms sampling
 * interval (0 when the loop is idle), from `perf_hooks.monitorEventLoopDelay()`.
 */
export interface EventLoopDelayStatus {
  p50: number
  p99: number
  max: number
}

/** A worker in a `FleetStatus`. */
export interface WorkerStatus extends Pick<WorkerInfo, 'id' | 'pid' | 'slot' | 'state'> {
  /** Milliseconds since it was forked (since this process started, outside a cluster). */
  uptime: number
  /** How many times a worker of its slot died unexpectedly and was replaced (rolling restarts do not count). */
  restarts: number
  /** As last reported (with each heartbeat); `null` until the first report. */
  memory: MemoryStatus | null
  /** As last reported (with each heartbeat); `null` until the first report. */
  eventLoopDelay: EventLoopDelayStatus | null
}

/** What the primary knows of the cluster: `handle.status()`, `app.fleet.status()`. */
export interface FleetStatus {
  /** The primary's pid, uptime (ms) and memory now; `null` outside a cluster (a single process has no primary). */
  primary: { pid: number, uptime: number, memory: MemoryStatus } | null
  /** The workers alive, in the order they were forked; outside a cluster, this process alone. */
  workers: WorkerStatus[]
}

/** What a worker reports in its answer to the heartbeat. */
export interface WorkerReport {
  memory: MemoryStatus
  eventLoopDelay: EventLoopDelayStatus | null
}

const RESOLUTION = 20
let histogram: IntervalHistogram | undefined
let lastDelay: EventLoopDelayStatus | null = null

/** Starts sampling this process's event-loop delay (once per process; the timer does not keep it alive). */
export function sampleEventLoop (): void {
  histogram ??= monitorEventLoopDelay({ resolution: RESOLUTION })
  histogram.enable()
}

const delayMs = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - RESOLUTION) * 100) / 100)

/**
 * This process's memory now and its event-loop delay since the previous report (the histogram
 * starts again); with no sample since, the previous delay (`null` before the first).
 */
export function workerReport (): WorkerReport {
  sampleEventLoop()
  const h = histogram as IntervalHistogram
  if (h.count > 0) {
    lastDelay = { p50: delayMs(h.percentile(50)), p99: delayMs(h.percentile(99)), max: delayMs(h.max) }
    h.reset()
  }
  const { rss, heapUsed } = process.memoryUsage()
  return { memory: { rss, heapUsed }, eventLoopDelay: lastDelay }
}

/** A heartbeat answer as the primary reads it: a report, or anything else (`true` from an older worker) as none. */
export function readReport (answer: unknown): { memory: MemoryStatus | null, eventLoopDelay: EventLoopDelayStatus | null } {
  const report = typeof answer === 'object' && answer !== null ? answer as Partial<WorkerReport> : {}
  return { memory: report.memory ?? null, eventLoopDelay: report.eventLoopDelay ?? null }
}

/** The status of this process alone (outside a cluster): no primary, one worker. */
export function localStatus (id: number, state: WorkerStatus['state']): FleetStatus {
  const uptime = Math.round(process.uptime() * 1000)
  return { primary: null, workers: [{ id, pid: process.pid, slot: 0, state, uptime, restarts: 0, ...workerReport() }] }
}
