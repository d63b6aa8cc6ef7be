import { test } from 'tap'
import {
  formatMicros, ipcSection, ipcSelected, ipcTable, ipcVerdict, percentile, roundBatches, summarizeLatencies, type GoalRound, type LatencySummary
} from '../../bench/ipc/latency.js'

/** Rounds whose store / bare p99 ratios are `ratios` (bare 600 µs). */
const rounds = (...ratios: number[]): GoalRound[] => ratios.map((r) => ({ storeP99Us: r * 600, bareP99Us: 600 }))

const summary = (fields: Partial<LatencySummary>): LatencySummary =>
  ({ label: 'ClusterStore get', inFlight: 100, calls: 100_000, p50Us: 310.4, p99Us: 655.5, maxUs: 2345.6, callsPerSecond: 123_456.7, ...fields })

test('ipcSelected: always without BENCH_ONLY, else when the text is in its name (any case)', async (t) => {
  t.equal(ipcSelected(undefined), true)
  t.equal(ipcSelected('ipc'), true)
  t.equal(ipcSelected('Round-Trip'), true)
  t.equal(ipcSelected('cluster'), true)
  t.equal(ipcSelected('redis'), false)
  t.equal(ipcSelected('session-memory'), false)
})

test('percentile: nearest rank of ascending values, clamped to the ends; NaN when empty', async (t) => {
  const values = Float64Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(percentile(values, 50), 50)
  t.equal(percentile(values, 99), 99)
  t.equal(percentile(values, 100), 100)
  t.equal(percentile(values, 0), 1)
  t.equal(percentile([7], 99), 7)
  t.equal(percentile([1, 2, 3], 50), 2)
  t.strictSame(percentile([], 50), Number.NaN)
})

test('summarizeLatencies: sorts, takes p50, p99 and max, and the rate over the elapsed time', async (t) => {
  const values = Float64Array.from({ length: 200 }, (_, i) => 200 - i)
  const s = summarizeLatencies('bus request', 100, values, 50)
  t.same(s, { label: 'bus request', inFlight: 100, calls: 200, p50Us: 100, p99Us: 198, maxUs: 200, callsPerSecond: 4000 })
  t.equal(values[0], 1, 'sorted in place')
  t.strictSame(summarizeLatencies('x', 1, new Float64Array([5]), 0).callsPerSecond, Number.NaN)
})

test('formatMicros: whole microseconds below a millisecond, else milliseconds with two decimals', async (t) => {
  t.equal(formatMicros(0.4), '0 µs')
  t.equal(formatMicros(412.3), '412 µs')
  t.equal(formatMicros(999.4), '999 µs')
  t.equal(formatMicros(999.6), '1.00 ms')
  t.equal(formatMicros(1234.5), '1.23 ms')
  t.equal(formatMicros(Number.NaN), '—')
})

test('ipcTable: one row per series, numbers right-aligned', async (t) => {
  const table = ipcTable([summary({}), summary({ label: 'bus request', inFlight: 1, calls: 1000, callsPerSecond: Number.NaN })])
  const lines = table.split('\n')
  t.equal(lines.length, 4)
  t.match(lines[0], /^\| call +\| in flight \| +calls \| +p50 \| +p99 \| +max \| +calls\/s \|$/)
  t.match(lines[1], /^\| -+ \| -+: \|/)
  t.match(lines[2], /^\| ClusterStore get \| +100 \| 100,000 \| 310 µs \| 656 µs \| 2\.35 ms \| 123,457 \|$/)
  t.match(lines[3], /^\| bus request +\| +1 \| +1,000 \| 310 µs \| 656 µs \| 2\.35 ms \| +— \|$/)
})

test('roundBatches: the batches split over the rounds as evenly as they go', async (t) => {
  t.strictSame([1, 2, 3, 4, 5, 6, 7].map((r) => roundBatches(1000, 7, r)), [142, 143, 143, 143, 143, 143, 143])
  t.strictSame([1, 2].map((r) => roundBatches(10, 2, r)), [5, 5])
  t.strictSame([1, 2, 3].map((r) => roundBatches(2, 3, r)), [0, 1, 1])
})

test('ipcVerdict: the ClusterStore get series with 100 in flight against the bare channel (≤ 1.2× at p99, median of the rounds) and 1 ms (p50)', async (t) => {
  const bare = summary({ label: 'bare process.send', p99Us: 600 })
  const goal = 'goal: ClusterStore get with 100 in flight, p99 ≤ 1.2× bare process.send\'s and p50 under 1.00 ms'
  t.equal(ipcVerdict([summary({ inFlight: 1, p99Us: 50 }), summary({ p99Us: 720 }), bare], rounds(1.19, 1.2, 1.18)),
    `${goal}: p99 720 µs (bare: 600 µs), p99 ratio 1.19× ±0.8 % (median of 3 rounds), p50 310 µs, met`)
  t.equal(ipcVerdict([summary({ p99Us: 721 }), bare], rounds(1.21, 1.22, 1.2)),
    `${goal}: p99 721 µs (bare: 600 µs), p99 ratio 1.21× ±0.8 % (median of 3 rounds), p50 310 µs, missed`)
  t.equal(ipcVerdict([summary({ p99Us: 700 }), bare], rounds(1, 1.2, 1.5)),
    `${goal}: p99 700 µs (bare: 600 µs), p99 ratio 1.20× ±20.8 % (median of 3 rounds), p50 310 µs, noisy (±20.8 %)`, 'rounds that disagree')
  t.equal(ipcVerdict([summary({ p99Us: 700, p50Us: 1000 }), bare], rounds(1, 1.2, 1.5)),
    `${goal}: p99 700 µs (bare: 600 µs), p99 ratio 1.20× ±20.8 % (median of 3 rounds), p50 1.00 ms, missed`, 'p50 misses whatever the ratio')
  t.equal(ipcVerdict([summary({ p99Us: 700 }), bare], rounds(1.1)),
    `${goal}: p99 700 µs (bare: 600 µs), p99 ratio 1.10× — (median of 1 round), p50 310 µs, noisy (one round)`)
  t.equal(ipcVerdict([summary({ p99Us: 700 }), bare], []),
    `${goal}: p99 700 µs (bare: 600 µs), p99 ratio — — (median of 0 rounds), p50 310 µs, —`)
  t.equal(ipcVerdict([summary({ p99Us: 1500 }), bare, summary({ label: 'bare process.send + JSON.parse', p99Us: 900 })], rounds(2.5, 2.5)),
    `${goal}: p99 1.50 ms (bare: 600 µs), p99 ratio 2.50× ±0.0 % (median of 2 rounds), p50 310 µs, missed; bare process.send + JSON.parse (the floor of a store that copies): p99 900 µs, 1.50×`,
    'the floor of a copying store, when measured, beside it')
  t.equal(ipcVerdict([summary({ p99Us: 1500 })], rounds(1)), `${goal} (not measured)`, 'without the bare channel')
  t.equal(ipcVerdict([bare], rounds(1)), `${goal} (not measured)`, 'without the store')
})

test('ipcSection: heading, method, batches, table and verdict; or the failure', async (t) => {
  const text = ipcSection({ result: { batches: 1000, warmupBatches: 200, series: [summary({})], goalRounds: rounds(1, 1, 1, 1, 1, 1, 1) } })
  const lines = text.split('\n')
  t.equal(lines[0], '## IPC round trip (ClusterStore, `bench/ipc/round-trip.ts`)')
  t.match(text, /One worker of a two-worker `startCluster\(\)` cluster/)
  t.match(text, /\n1,000 measured batches per series, after 200 warm-up batches\. The goal's two series \(ClusterStore get and bare process\.send, 100 in flight\) take turns in 7 rounds .*its spread is theirs\.\n\n\| call /)
  t.match(lines.at(-1), /^goal: ClusterStore get with 100 in flight, .* \(not measured\)$/)
  const failed = ipcSection({ error: 'no result within 120 s' })
  t.match(failed, /^## IPC round trip/)
  t.match(failed, /\n\nfailed: no result within 120 s$/)
})
