import { test } from 'tap'
import {
  formatMicros, ipcSection, ipcSelected, ipcTable, ipcVerdict, percentile, summarizeLatencies, type LatencySummary
} from '../../bench/ipc/latency.js'

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

test('ipcVerdict: the ClusterStore get series with 100 in flight against the bare channel (≤ 1.2× at p99) and 1 ms (p50)', async (t) => {
  const bare = summary({ label: 'bare process.send', p99Us: 600 })
  const goal = 'goal: ClusterStore get with 100 in flight, p99 ≤ 1.2× bare process.send\'s and p50 under 1.00 ms'
  t.equal(ipcVerdict([summary({ inFlight: 1, p99Us: 50 }), summary({ p99Us: 720 }), bare]),
    `${goal}: p99 720 µs, 1.20× (bare: 600 µs), p50 310 µs, met`)
  t.equal(ipcVerdict([summary({ p99Us: 721 }), bare]), `${goal}: p99 721 µs, 1.20× (bare: 600 µs), p50 310 µs, missed`)
  t.equal(ipcVerdict([summary({ p99Us: 700, p50Us: 1000 }), bare]), `${goal}: p99 700 µs, 1.17× (bare: 600 µs), p50 1.00 ms, missed`, 'p50 too')
  t.equal(ipcVerdict([summary({ p99Us: 1500 }), bare, summary({ label: 'bare process.send + JSON.parse', p99Us: 900 })]),
    `${goal}: p99 1.50 ms, 2.50× (bare: 600 µs), p50 310 µs, missed; bare process.send + JSON.parse (the floor of a store that copies): p99 900 µs, 1.50×`,
    'the floor of a copying store, when measured, beside it')
  t.equal(ipcVerdict([summary({ p99Us: 1500 })]), `${goal} (not measured)`, 'without the bare channel')
  t.equal(ipcVerdict([bare]), `${goal} (not measured)`, 'without the store')
})

test('ipcSection: heading, method, batches, table and verdict; or the failure', async (t) => {
  const text = ipcSection({ result: { batches: 1000, warmupBatches: 200, series: [summary({})] } })
  const lines = text.split('\n')
  t.equal(lines[0], '## IPC round trip (ClusterStore, `bench/ipc/round-trip.ts`)')
  t.match(text, /One worker of a two-worker `startCluster\(\)` cluster/)
  t.match(text, /\n1,000 measured batches per series, after 200 warm-up batches\.\n\n\| call /)
  t.match(lines.at(-1), /^goal: ClusterStore get with 100 in flight, .* \(not measured\)$/)
  const failed = ipcSection({ error: 'no result within 120 s' })
  t.match(failed, /^## IPC round trip/)
  t.match(failed, /\n\nfailed: no result within 120 s$/)
})
