/** Pure: the figures of the IPC round-trip micro-benchmark (`ipc/round-trip.ts`) and their section of RESULTS.md. */
import { selects } from '../lib/config.js'
import { formatSpread, median, spread } from '../lib/stats.js'
import { formatTable, verdict } from '../lib/table.js'

/** What one series of calls measured. */
export interface LatencySummary {
  /** What was called, e.g. `'ClusterStore get'`. */
  label: string
  /** Calls started together in each batch. */
  inFlight: number
  /** Measured calls. */
  calls: number
  /** Percentiles and maximum of the calls' latency, in microseconds. */
  p50Us: number
  p99Us: number
  maxUs: number
  /** Calls completed per second over the series. */
  callsPerSecond: number
}

/** One round of the goal's two series: the p99 of each over that round's batches. */
export interface GoalRound {
  storeP99Us: number
  bareP99Us: number
}

/** What the benchmark reports to the harness. */
export interface IpcBenchResult {
  /** The batches of each series (after the warm-up). */
  batches: number
  /** Warm-up batches per series, not measured. */
  warmupBatches: number
  series: LatencySummary[]
  /**
   * The goal's series (`ClusterStore get` and `bare process.send`, 100 in flight) are measured in
   * rounds, taking turns (odd rounds the store first, even rounds the bare channel first): each round's p99s.
   */
  goalRounds: GoalRound[]
}

/** The message the benchmark's primary sends to the harness over IPC. */
export interface IpcResultMessage {
  type: 'ipc-result'
  result: IpcBenchResult
}

/** Searched by `BENCH_ONLY`, like a scenario's file and name. */
export const IPC_BENCH_NAME = 'ipc/round-trip: ClusterStore IPC round trip (cluster bus)'

/** The goal of the `ClusterStore get` series with 100 calls in flight: p99 under this many microseconds. */
/** The series of the bare channel whose answers are parsed as a store that copies must (JSON.parse of each session). */
export const BARE_PARSED = 'bare process.send + JSON.parse'

/** The goal of ClusterStore get with 100 in flight: p99 at most this many times the bare channel's, and p50 under `P50_GOAL_US`. */
export const P99_RATIO_GOAL = 1.2
export const P50_GOAL_US = 1000

/** The batches of round `round` (1-based) of `rounds` when `total` batches are split as evenly as they go. */
export function roundBatches (total: number, rounds: number, round: number): number {
  return Math.floor(total * round / rounds) - Math.floor(total * (round - 1) / rounds)
}

/** Whether `BENCH_ONLY` (`only`) selects the IPC benchmark (see `selects`). */
export function ipcSelected (only: string | undefined): boolean {
  return selects(only, IPC_BENCH_NAME)
}

/** The nearest-rank percentile `p` (0–100) of ascending `sorted` values; `NaN` when empty. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** Summarises one series: `latenciesUs` one figure per call (reordered in place), `elapsedMs` the series' wall time. */
export function summarizeLatencies (label: string, inFlight: number, latenciesUs: Float64Array, elapsedMs: number): LatencySummary {
  latenciesUs.sort()
  return {
    label,
    inFlight,
    calls: latenciesUs.length,
    p50Us: percentile(latenciesUs, 50),
    p99Us: percentile(latenciesUs, 99),
    maxUs: percentile(latenciesUs, 100),
    callsPerSecond: elapsedMs > 0 ? latenciesUs.length / (elapsedMs / 1000) : Number.NaN
  }
}

/** Microseconds as `'412 µs'` below a millisecond, else `'1.23 ms'`; `'—'` when not a number. */
export function formatMicros (us: number): string {
  if (!Number.isFinite(us)) return '—'
  return us < 999.5 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(2)} ms`
}

const count = (n: number): string => Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'

/** The series as a Markdown table. */
export function ipcTable (series: readonly LatencySummary[]): string {
  return formatTable(
    ['call', 'in flight', 'calls', 'p50', 'p99', 'max', 'calls/s'],
    series.map((s) => [s.label, String(s.inFlight), count(s.calls), formatMicros(s.p50Us), formatMicros(s.p99Us), formatMicros(s.maxUs), count(s.callsPerSecond)]),
    [1, 2, 3, 4, 5, 6]
  )
}

/**
 * The verdict on the goal: the `ClusterStore get` series with 100 calls in flight. Its p99 ratio is
 * the median of the rounds' ratios (store p99 / bare p99 of the same round); like a row of the
 * results table, it gets met / missed only when those ratios spread at most ±5 %, else noisy. A p50
 * at or over the limit misses whatever the ratio.
 */
export function ipcVerdict (series: readonly LatencySummary[], rounds: readonly GoalRound[]): string {
  const at100 = (label: string): LatencySummary | undefined => series.find((s) => s.label === label && s.inFlight === 100)
  const store = at100('ClusterStore get')
  const bare = at100('bare process.send')
  const goal = `goal: ClusterStore get with 100 in flight, p99 ≤ ${P99_RATIO_GOAL}× bare process.send's and p50 under ${formatMicros(P50_GOAL_US)}`
  if (store === undefined || bare === undefined) return `${goal} (not measured)`
  const ratios = rounds.map((r) => r.storeP99Us / r.bareP99Us)
  const ratio = median(ratios)
  const ratioSpread = spread(ratios)
  const result = store.p50Us >= P50_GOAL_US ? 'missed' : verdict(ratio, ratioSpread, P99_RATIO_GOAL, true)
  const whole = (s: LatencySummary): string => `${(s.p99Us / bare.p99Us).toFixed(2)}×`
  const parsed = at100(BARE_PARSED)
  const floor = parsed === undefined ? '' : `; ${BARE_PARSED} (the floor of a store that copies): p99 ${formatMicros(parsed.p99Us)}, ${whole(parsed)}`
  return `${goal}: p99 ${formatMicros(store.p99Us)} (bare: ${formatMicros(bare.p99Us)}), p99 ratio ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—'} ` +
    `${formatSpread(ratioSpread)} (median of ${rounds.length} round${rounds.length === 1 ? '' : 's'}), p50 ${formatMicros(store.p50Us)}, ${result}${floor}`
}

/** The section of RESULTS.md (and of the console output): what was measured, the table, the verdict, or why it failed. */
export function ipcSection (outcome: { result: IpcBenchResult } | { error: string }): string {
  const lines = [
    '## IPC round trip (ClusterStore, `bench/ipc/round-trip.ts`)',
    '',
    'One worker of a two-worker `startCluster()` cluster (the other idle) calls its primary over the cluster bus ' +
      'in batches: each batch starts `in flight` calls at once and waits for all of them. Latency = from the call to its ' +
      'promise settling (`process.hrtime.bigint()`), in the worker. `ClusterStore get` reads a logged-in session ' +
      '(store machinery included: the bus request, the primary\'s lookup, JSON parse of the session); ' +
      '`bus request` sends the same request and answer through `app.fleet.bus` to a primary handler that answers ' +
      'at once (the bus alone); `bare process.send` carries the same request and answer, batched the same way, as ' +
      'plain `process.send` messages to a `cluster.on(\'message\')` listener that answers at once, with no ids, ' +
      'timeouts or topics: Node\'s IPC channel alone, the floor of any bus on it; `bare process.send + JSON.parse` ' +
      'also parses each answer\'s session, the least a store that hands out copies does per call: its floor.',
    ''
  ]
  if ('error' in outcome) return [...lines, `failed: ${outcome.error}`].join('\n')
  const { result } = outcome
  return [
    ...lines,
    `${count(result.batches)} measured batches per series, after ${count(result.warmupBatches)} warm-up batches. ` +
      `The goal's two series (ClusterStore get and bare process.send, 100 in flight) take turns in ${result.goalRounds.length} rounds ` +
      '(odd rounds the store first, even rounds the bare channel first); the goal\'s p99 ratio is the median of the rounds\' ' +
      'ratios (each round\'s store p99 over its bare p99) and its spread is theirs.',
    '',
    ipcTable(result.series),
    '',
    ipcVerdict(result.series, result.goalRounds)
  ].join('\n')
}
