// What the soak's records mean: which failures an event explains (Redis down, a worker killed),
// whether memory and descriptors stayed flat after warm-up, and the run's verdict.
import { median } from '../bench/lib/stats.js'
import type { RequestRecord, SessionProblem } from './load.js'

/** Something the soak did to the fleet, at `at` ms since the start. */
export interface SoakEvent {
  at: number
  kind: 'rolling restart' | 'kill -9' | 'redis down' | 'redis up'
  /** for `kill -9`: the worker's pid */
  pid?: number
}

/** One process at one moment: bytes, descriptors. */
export interface ProcessSample {
  at: number
  /** `primary`, `worker <slot>` or `redis` */
  name: string
  pid: number
  rss: number
  fds: number
  heapUsed: number | null
}

export interface VerdictOptions {
  /** samples before this (ms) are warm-up */
  warmupMs: number
  /**
   * failures up to this long after Redis is back are its outage's, ms: the store's breaker stays
   * open for its cool-down (5 s) and the client reconnects with a backoff (up to 2 s)
   */
  redisGraceMs: number
  /** failures on a killed worker's connections up to this long after the kill are the kill's, ms */
  killGraceMs: number
  /** a worker's samples from its first this many ms are its own warm-up */
  workerWarmupMs: number
  /** the growth allowed, 0.1 = 10 % */
  maxGrowth: number
}

export const VERDICT_DEFAULTS: VerdictOptions = { warmupMs: 120_000, redisGraceMs: 8000, killGraceMs: 5000, workerWarmupMs: 20_000, maxGrowth: 0.1 }

/** Why a failed request failed, as far as the soak's own events explain it. */
export type FailureCause = 'redis down' | 'killed worker' | 'unexplained'

export function failureCause (record: RequestRecord, events: readonly SoakEvent[], options: VerdictOptions): FailureCause {
  const downs = events.filter((e) => e.kind === 'redis down')
  for (const down of downs) {
    const up = events.find((e) => e.kind === 'redis up' && e.at >= down.at)
    if (record.at >= down.at && record.at <= (up?.at ?? Infinity) + options.redisGraceMs) return 'redis down'
  }
  const killed = events.some((e) => e.kind === 'kill -9' && e.pid === record.pid && record.at >= e.at && record.at <= e.at + options.killGraceMs)
  return killed ? 'killed worker' : 'unexplained'
}

/** How one measure of one process moved after warm-up: the medians of its first and last fifth. */
export interface Growth {
  name: string
  measure: 'rss' | 'heapUsed' | 'fds'
  first: number
  last: number
  /** last / first - 1 */
  growth: number
  flat: boolean
}

/**
 * The workers' samples summed per moment, as one series (`workers`): a worker's share of the
 * connections, so of descriptors and memory, changes with each restart, their total does not.
 * Moments when a worker is in its own warm-up are left out.
 */
function workerTotals (samples: readonly ProcessSample[], options: VerdictOptions): ProcessSample[] {
  const bornAt = new Map<number, number>()
  for (const s of samples) if (s.name.startsWith('worker') && !bornAt.has(s.pid)) bornAt.set(s.pid, s.at)
  const moments = new Map<number, ProcessSample[]>()
  for (const s of samples) if (s.name.startsWith('worker')) moments.set(s.at, [...(moments.get(s.at) ?? []), s])
  const totals: ProcessSample[] = []
  for (const [at, workers] of moments) {
    if (workers.some((w) => at - (bornAt.get(w.pid) as number) < options.workerWarmupMs)) continue
    const heaps = workers.map((w) => w.heapUsed)
    totals.push({
      at,
      name: 'workers',
      pid: 0,
      rss: workers.reduce((sum, w) => sum + w.rss, 0),
      fds: workers.reduce((sum, w) => sum + w.fds, 0),
      heapUsed: heaps.includes(null) ? null : (heaps as number[]).reduce((sum, h) => sum + h, 0)
    })
  }
  return totals
}

/** The growth of each measure of the primary, Redis and the workers' total, after warm-up. */
export function growths (samples: readonly ProcessSample[], options: VerdictOptions): Growth[] {
  const counted = [...samples.filter((s) => !s.name.startsWith('worker')), ...workerTotals(samples, options)]
    .filter((s) => s.at >= options.warmupMs)
  const names = [...new Set(counted.map((s) => s.name))].sort()
  const result: Growth[] = []
  for (const name of names) {
    const series = counted.filter((s) => s.name === name)
    const fifth = Math.max(1, Math.floor(series.length / 5))
    for (const measure of ['rss', 'heapUsed', 'fds'] as const) {
      const values = (part: ProcessSample[]): number[] => part.map((s) => s[measure]).filter((v): v is number => v !== null)
      const head = values(series.slice(0, fifth))
      const tail = values(series.slice(-fifth))
      if (head.length === 0 || tail.length === 0) continue
      const first = median(head)
      const last = median(tail)
      const growth = first === 0 ? 0 : last / first - 1
      result.push({ name, measure, first, last, growth, flat: growth < options.maxGrowth })
    }
  }
  return result
}

/** How long after Redis was back its outage's failures went on (ms), for each outage that ended. */
export function recoveries (records: readonly RequestRecord[], events: readonly SoakEvent[], options: VerdictOptions): number[] {
  return events.filter((e) => e.kind === 'redis up').map((up) => {
    const last = records.filter((r) => r.failure !== null && r.at >= up.at && failureCause(r, events, options) === 'redis down').at(-1)
    return last === undefined ? 0 : last.at - up.at
  })
}

export interface Verdict {
  requests: number
  failures: Record<FailureCause, number>
  retried: number
  /** see `recoveries()` */
  redisRecoveryMs: number[]
  problems: readonly SessionProblem[]
  growths: Growth[]
  passed: boolean
  /** why it did not pass, one line each */
  reasons: string[]
  /** what it was judged with */
  options: VerdictOptions
}

export function verdict (records: readonly RequestRecord[], problems: readonly SessionProblem[], events: readonly SoakEvent[], samples: readonly ProcessSample[], options: VerdictOptions = VERDICT_DEFAULTS): Verdict {
  const failures: Record<FailureCause, number> = { 'redis down': 0, 'killed worker': 0, unexplained: 0 }
  for (const r of records) if (r.failure !== null) failures[failureCause(r, events, options)]++
  const grown = growths(samples, options)
  const reasons = [
    ...(failures.unexplained > 0 ? [`${failures.unexplained} requests failed outside the Redis outage and the killed workers' connections`] : []),
    ...(problems.length > 0 ? [`${problems.length} session problems (a session lost or a view count wrong)`] : []),
    ...grown.filter((g) => !g.flat).map((g) => `${g.name} ${g.measure} grew ${(g.growth * 100).toFixed(1)} % after warm-up`),
    ...(grown.length === 0 ? ['no samples after warm-up: the run was too short to judge memory'] : [])
  ]
  return {
    requests: records.length,
    failures,
    retried: records.filter((r) => r.retried).length,
    redisRecoveryMs: recoveries(records, events, options),
    problems,
    growths: grown,
    passed: reasons.length === 0,
    reasons,
    options
  }
}
