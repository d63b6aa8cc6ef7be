import { test } from 'tap'
import { STALE_SECTION, staleSection, staleSelected, staleSeries, staleVerdict } from '../../bench/tiered/stale-section.js'

test('staleSelected: always without BENCH_ONLY, else when the text is in its name (any case)', async (t) => {
  t.equal(staleSelected(undefined), true)
  t.equal(staleSelected('tiered'), true)
  t.equal(staleSelected('Stale'), true)
  t.equal(staleSelected('redis'), false)
})

test('staleSeries: nearest-rank p50 and p99, the max, and the windows at or below 0', async (t) => {
  const windows = Array.from({ length: 100 }, (_, i) => (i - 2) / 10)
  t.same(staleSeries('Redis', windows.reverse()), { channel: 'Redis', changes: 100, p50Ms: 4.7, p99Ms: 9.6, maxMs: 9.7, early: 3 })
  t.same(staleSeries('one', [0.5]), { channel: 'one', changes: 1, p50Ms: 0.5, p99Ms: 0.5, maxMs: 0.5, early: 0 })
})

test('staleSection: heading, method, table and verdict; a channel not measured; or the failure', async (t) => {
  const result = [staleSeries('Redis pub/sub (ioredis)', [0.02, 0.03, 0.09]), { channel: 'PostgreSQL LISTEN/NOTIFY (pg)', error: 'connection refused' }]
  const text = staleSection({ result })
  t.match(text, /^## Stale window of TieredStore invalidation/)
  t.match(text, /\| Redis pub\/sub \(ioredis\) +\| +3 \| +0\.03 \| +0\.09 \| +0\.09 \| +0 \|/)
  t.match(text, /\| PostgreSQL LISTEN\/NOTIFY \(pg\) \|.*\| not measured: connection refused +\|/)
  t.match(text, /Redis pub\/sub \(ioredis\): p50 0\.03 ms, p99 0\.09 ms; PostgreSQL LISTEN\/NOTIFY \(pg\): not measured$/)
  t.equal(staleVerdict([]), '')
  t.match(staleSection({ error: 'no result within 120 s' }), /\n\nfailed: no result within 120 s$/)
})

test('STALE_SECTION: takes the result message and nothing else, and renders both outcomes', async (t) => {
  const series = [staleSeries('Redis', [1])]
  t.same(STALE_SECTION.resultOf({ type: 'stale-window-result', series }), series)
  t.equal(STALE_SECTION.resultOf({ type: 'ipc-result', series }), undefined)
  t.equal(STALE_SECTION.resultOf(null), undefined)
  t.match(STALE_SECTION.file.pathname, /\/bench\/tiered\/stale-window\.js$/)
  t.same(STALE_SECTION.render(series), { section: staleSection({ result: series }), verdict: 'Redis: p50 1.00 ms, p99 1.00 ms' })
  t.equal(STALE_SECTION.renderError('boom'), staleSection({ error: 'boom' }))
})
