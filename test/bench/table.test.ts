import { test } from 'tap'
import type { LoadResult } from '../../bench/lib/load.js'
import { NOISE_LIMIT, TABLE_HEADER, formatGoal, formatTable, resultsTable, rowCells, rowName, rowNotes, rowRatio, summarize, verdict, type RowResult, type SideSummary } from '../../bench/lib/table.js'

const run = (rps: number, fields: Partial<LoadResult> = {}): LoadResult =>
  ({ rps, requests: rps, failures: 0, non2xx: 0, p99Ms: Number.NaN, meanMs: Number.NaN, ...fields })

const side = (fields: Partial<SideSummary>): SideSummary =>
  ({ rps: 1000, rpsRuns: [1000], p99Ms: Number.NaN, meanMs: Number.NaN, spread: Number.NaN, failures: 0, protocols: [], metrics: {}, ...fields })

/** An autocannon row: p99 latencies, three rounds each. */
const h1Row: RowResult = {
  scenario: 'hello, HTTP/1.1',
  anchor: 'fastify',
  protocol: 'h1',
  fleet: side({ rps: 12345.6, rpsRuns: [12345.6, 12000, 12600], p99Ms: 10, meanMs: 2.5, spread: 0.031, failures: 0 }),
  anchorSide: side({ rps: 10000, rpsRuns: [10000, 10100, 9900], p99Ms: 12, meanMs: 3, spread: 0.05, failures: 3 })
}
const h1Notes = 'p99 10 ms / 12 ms; req/s spread ±3.1 % / ±5.0 %; failed 0 / 3'

test('TABLE_HEADER', async (t) => {
  t.strictSame(TABLE_HEADER, ['scenario', 'fleet req/s', 'anchor req/s', 'ratio', 'ratio spread', 'goal', 'verdict', 'notes'])
})

test('summarize: medians of the rounds, their spread, summed failures, distinct protocols', async (t) => {
  t.strictSame(summarize([
    run(100, { failures: 1, p99Ms: 10, meanMs: 2, protocol: 'h2' }),
    run(110, { failures: 2, p99Ms: 12, meanMs: 3, protocol: 'h2' }),
    run(90, { failures: 0, p99Ms: 11, meanMs: 2.5, protocol: 'http/1.1' })
  ]), { rps: 100, rpsRuns: [100, 110, 90], p99Ms: 11, meanMs: 2.5, spread: 0.1, failures: 3, protocols: ['h2', 'http/1.1'], metrics: {} })
})

test('summarize: the median of each scenario metric, by label in the order first measured; rounds without it count as missing', async (t) => {
  t.strictSame(summarize([
    run(100, { metrics: { 'Redis commands/request': 4.02, b: 1 } }),
    run(110, { metrics: { 'Redis commands/request': 4.01 } }),
    run(90, { metrics: { 'Redis commands/request': 4.03, c: 7 } }),
    run(95)
  ]).metrics, { 'Redis commands/request': 4.02, b: 1, c: 7 })
  t.strictSame(Object.keys(summarize([run(1, { metrics: { z: 1 } }), run(1, { metrics: { a: 2, z: 3 } })]).metrics), ['z', 'a'])
  t.strictSame(summarize([run(1, { metrics: { x: Number.NaN } })]).metrics, { x: Number.NaN })
})

test('summarize: h2load rounds (no p99, no protocol) and no rounds at all', async (t) => {
  t.strictSame(summarize([run(1000, { meanMs: 1 }), run(1000, { meanMs: 2, failures: 4 })]),
    { rps: 1000, rpsRuns: [1000, 1000], p99Ms: Number.NaN, meanMs: 1.5, spread: 0, failures: 4, protocols: [], metrics: {} })
  t.strictSame(summarize([run(500)]),
    { rps: 500, rpsRuns: [500], p99Ms: Number.NaN, meanMs: Number.NaN, spread: Number.NaN, failures: 0, protocols: [], metrics: {} })
  t.strictSame(summarize([]),
    { rps: Number.NaN, rpsRuns: [], p99Ms: Number.NaN, meanMs: Number.NaN, spread: Number.NaN, failures: 0, protocols: [], metrics: {} })
})

test('rowName: "<scenario> vs <anchor>", the scenario alone without an anchor', async (t) => {
  t.equal(rowName({ scenario: 'hello-world, HTTP/2', anchor: 'node:http2' }), 'hello-world, HTTP/2 vs node:http2')
  t.equal(rowName({ scenario: 'bench/scenarios/broken.ts', anchor: '' }), 'bench/scenarios/broken.ts')
})

test('rowNotes: p99 latency, spread, failures, then the scenario notes', async (t) => {
  t.equal(rowNotes(h1Row), h1Notes)
  t.equal(rowNotes({ ...h1Row, notes: 'dev certificate' }), `${h1Notes}; dev certificate`)
  t.equal(rowNotes({ ...h1Row, notes: '' }), h1Notes)
})

test('rowNotes: mean latency when a p99 is missing, spread with a dash for a side without one', async (t) => {
  t.equal(rowNotes({
    scenario: 's',
    anchor: 'a',
    protocol: 'h2',
    fleet: side({ p99Ms: 9, meanMs: 1.01, failures: 0 }),
    anchorSide: side({ meanMs: 0.958, spread: 0.1, failures: 20340 })
  }), 'mean latency 1.01 ms / 0.96 ms; req/s spread — / ±10.0 %; failed 0 / 20340')
})

test('rowNotes: no latency and no spread when not both known; failures always', async (t) => {
  t.equal(rowNotes({
    scenario: 's',
    anchor: 'a',
    protocol: 'h1',
    fleet: side({ p99Ms: 9, meanMs: 1, failures: 1 }),
    anchorSide: side({ failures: 2, protocols: ['http/1.1'] })
  }), 'failed 1 / 2')
})

test('rowNotes: each scenario metric as "<label> <fleet> / <anchor>" after the failures, a dash for a side without it', async (t) => {
  const row: RowResult = {
    ...h1Row,
    fleet: side({ ...h1Row.fleet, metrics: { 'Redis commands/request': 4.0312, only: 1 } }),
    anchorSide: side({ ...h1Row.anchorSide, metrics: { 'Redis commands/request': 2, other: 0.5 } }),
    notes: 'n'
  }
  t.equal(rowNotes(row), `${h1Notes}; Redis commands/request 4.03 / 2.00; only 1.00 / —; other — / 0.50; n`)
  t.equal(rowNotes({ ...row, protocol: 'h2', fleet: side({ metrics: { x: Number.NaN }, protocols: ['http/1.1'] }), anchorSide: side({}), notes: undefined }),
    'failed 0 / 0; x — / —; fleet negotiated http/1.1, not h2')
})

test('rowNotes: HTTP/2 rows flag a side that negotiated something other than h2 (h2c is HTTP/2)', async (t) => {
  const row: RowResult = {
    scenario: 's',
    anchor: 'a',
    protocol: 'h2',
    fleet: side({ protocols: ['h2', 'http/1.1'] }),
    anchorSide: side({ protocols: ['http/1.1', 'h2c', 'h3'] }),
    notes: 'scheme https'
  }
  t.equal(rowNotes(row), 'failed 0 / 0; fleet negotiated http/1.1, not h2; anchor negotiated http/1.1, h3, not h2; scheme https')
  t.equal(rowNotes({ ...row, fleet: side({ protocols: ['h2c'] }), anchorSide: side({ protocols: ['h2c'] }), notes: undefined }), 'failed 0 / 0')
  t.equal(rowNotes({ ...row, fleet: side({ protocols: ['h2'] }), anchorSide: side({ protocols: [] }), notes: undefined }), 'failed 0 / 0')
  t.equal(rowNotes({ ...row, protocol: 'h1', notes: undefined }), 'failed 0 / 0')
})

test('rowNotes: the error instead of figures, then the scenario notes', async (t) => {
  const error = 'not measured: h2load not installed (apt-get install nghttp2-client)'
  t.equal(rowNotes({ scenario: 's', anchor: 'a', protocol: 'h2', error, notes: 'n' }), `${error}; n`)
  t.equal(rowNotes({ ...h1Row, error: 'failed: fleet server exited during the run', failed: true }), 'failed: fleet server exited during the run')
})

test('rowNotes: only the scenario notes without both sides', async (t) => {
  t.equal(rowNotes({ scenario: 's', anchor: 'a', protocol: 'h1' }), '')
  t.equal(rowNotes({ scenario: 's', anchor: 'a', protocol: 'h1', notes: 'n' }), 'n')
  t.equal(rowNotes({ scenario: 's', anchor: 'a', protocol: 'h1', fleet: h1Row.fleet }), '')
  t.equal(rowNotes({ scenario: 's', anchor: 'a', protocol: 'h1', anchorSide: h1Row.anchorSide, notes: 'n' }), 'n')
})

test('rowRatio: the median of the per-round ratios and their spread', async (t) => {
  const { ratio, spread, runs } = rowRatio(h1Row)
  t.strictSame(runs.map((r) => r.toFixed(4)), ['1.2346', '1.1881', '1.2727'])
  t.equal(ratio.toFixed(4), '1.2346')
  t.equal(spread.toFixed(4), '0.0343')
  // not the ratio of the medians: a round where both sides were slow pairs with itself
  t.strictSame(rowRatio({ fleet: side({ rpsRuns: [100, 50, 100] }), anchorSide: side({ rpsRuns: [100, 50, 100] }) }), { ratio: 1, spread: 0, runs: [1, 1, 1] })
  t.strictSame(rowRatio({ fleet: side({ rpsRuns: [100] }), anchorSide: side({ rpsRuns: [0] }) }), { ratio: Number.NaN, spread: Number.NaN, runs: [Number.NaN] })
  t.strictSame(rowRatio({}), { ratio: Number.NaN, spread: Number.NaN, runs: [] })
})

test('verdict: met or missed only within the noise limit; noisy otherwise', async (t) => {
  t.equal(NOISE_LIMIT, 0.05)
  t.equal(verdict(1, 0.01, undefined), '')
  t.equal(verdict(Number.NaN, 0.01, 0.97), '—')
  t.equal(verdict(0.97, 0.05, 0.97), 'met')
  t.equal(verdict(0.96, 0.02, 0.97), 'missed')
  t.equal(verdict(1.5, 0.051, 0.97), 'noisy (±5.1 %)')
  t.equal(verdict(0.5, 0.2, 0.97), 'noisy (±20.0 %)')
  t.equal(verdict(1, Number.NaN, 0.97), 'noisy (one round)')
  t.equal(verdict(1.2, 0.01, 1.2, true), 'met', 'a ceiling')
  t.equal(verdict(1.21, 0.01, 1.2, true), 'missed', 'a ceiling')
})

test('formatGoal', async (t) => {
  t.equal(formatGoal(undefined), '')
  t.equal(formatGoal(0.97), '≥ 0.97×')
  t.equal(formatGoal(1), '≥ 1×')
  t.equal(formatGoal(1.2, true), '≤ 1.2×')
})

test('rowCells: name, req/s of both sides, ratio, its spread, goal, verdict, notes', async (t) => {
  t.strictSame(rowCells(h1Row), ['hello, HTTP/1.1 vs fastify', '12,346', '10,000', '1.23', '±3.4 %', '', '', h1Notes])
  t.strictSame(rowCells({ ...h1Row, goal: 1.2 }), ['hello, HTTP/1.1 vs fastify', '12,346', '10,000', '1.23', '±3.4 %', '≥ 1.2×', 'met', h1Notes])
  t.strictSame(rowCells({ ...h1Row, goal: 1.3 })[6], 'missed')
  t.strictSame(rowCells({ ...h1Row, anchorSide: side({ rps: 0, rpsRuns: [0] }) }),
    ['hello, HTTP/1.1 vs fastify', '12,346', '0', '—', '—', '', '', 'req/s spread ±3.1 % / —; failed 0 / 0'])
  t.strictSame(rowCells({ scenario: 'broken', anchor: 'x', protocol: 'h2', error: 'failed: boom', failed: true, goal: 0.9 }),
    ['broken vs x', '—', '—', '—', '—', '≥ 0.9×', '—', 'failed: boom'])
})

test('formatTable: padded columns, right alignment, escaped pipes, newlines as spaces', async (t) => {
  t.equal(formatTable(['a', 'bb'], [['x', '1'], ['longer|pipe', '22\nline']], [1]), [
    '| a            |      bb |',
    '| ------------ | ------: |',
    '| x            |       1 |',
    '| longer\\|pipe | 22 line |'
  ].join('\n'))
})

test('formatTable: columns at least 3 wide, left-aligned by default, missing cells empty, extra cells dropped', async (t) => {
  t.equal(formatTable(['k', 'v'], [['1'], ['2', 'a\r\nb', 'extra']]), [
    '| k   | v   |',
    '| --- | --- |',
    '| 1   |     |',
    '| 2   | a b |'
  ].join('\n'))
  t.equal(formatTable(['x|y', 'n'], [], [0, 1]), [
    '| x\\|y |   n |',
    '| ---: | --: |'
  ].join('\n'))
})

test('resultsTable: the columns, req/s, ratio and its spread right-aligned', async (t) => {
  t.equal(resultsTable([{ ...h1Row, goal: 1.3 }, { scenario: 'broken', anchor: 'x', protocol: 'h2', error: 'failed: boom', failed: true }]), [
    '| scenario                   | fleet req/s | anchor req/s | ratio | ratio spread | goal   | verdict | notes                                                         |',
    '| -------------------------- | ----------: | -----------: | ----: | -----------: | ------ | ------- | ------------------------------------------------------------- |',
    '| hello, HTTP/1.1 vs fastify |      12,346 |       10,000 |  1.23 |       ±3.4 % | ≥ 1.3× | missed  | p99 10 ms / 12 ms; req/s spread ±3.1 % / ±5.0 %; failed 0 / 3 |',
    '| broken vs x                |           — |            — |     — |            — |        |         | failed: boom                                                  |'
  ].join('\n'))
  t.equal(resultsTable([]), [
    '| scenario | fleet req/s | anchor req/s | ratio | ratio spread | goal | verdict | notes |',
    '| -------- | ----------: | -----------: | ----: | -----------: | ---- | ------- | ----- |'
  ].join('\n'))
})
