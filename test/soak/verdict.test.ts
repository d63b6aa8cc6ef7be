// The soak's judgement of a run: failure causes, memory growth, the verdict, its report and picture.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { perSecond, soakChart } from '../../soak/chart.js'
import type { RequestRecord } from '../../soak/load.js'
import { soakReport } from '../../soak/report.js'
import { procStats, sampleProcesses } from '../../soak/sampler.js'
import { failureCause, growths, VERDICT_DEFAULTS, verdict, type ProcessSample, type SoakEvent } from '../../soak/verdict.js'

const request = (at: number, fields: Partial<RequestRecord> = {}): RequestRecord =>
  ({ at, protocol: 'h2', route: 'GET /me', ms: 2, status: 200, failure: null, retried: false, pid: 11, ...fields })
const failed = (at: number, fields: Partial<RequestRecord> = {}): RequestRecord => request(at, { status: 0, failure: 'ECONNRESET', ...fields })
const EVENTS: SoakEvent[] = [
  { at: 10_000, kind: 'redis down' },
  { at: 15_000, kind: 'redis up' },
  { at: 30_000, kind: 'kill -9', pid: 11 },
  { at: 40_000, kind: 'rolling restart' }
]
const OPTIONS = { ...VERDICT_DEFAULTS, warmupMs: 0, workerWarmupMs: 1000 }

/** Samples every second from `from` to `to` s, `value(t)` for each measure. */
function series (name: string, pid: number, from: number, to: number, value: (t: number) => number): ProcessSample[] {
  const out: ProcessSample[] = []
  for (let t = from; t <= to; t++) out.push({ at: t * 1000, name, pid, rss: value(t), fds: Math.round(value(t) / 1000), heapUsed: value(t) / 2 })
  return out
}

test('a failure is Redis\'s during its outage and the grace after it, the kill\'s on the killed worker only, else unexplained', async (t) => {
  t.equal(failureCause(failed(9_999), EVENTS, OPTIONS), 'unexplained', 'before Redis went down')
  t.equal(failureCause(failed(10_000), EVENTS, OPTIONS), 'redis down')
  t.equal(failureCause(failed(15_000 + OPTIONS.redisGraceMs), EVENTS, OPTIONS), 'redis down', 'the breaker\'s cool-down after it is back')
  t.equal(failureCause(failed(15_001 + OPTIONS.redisGraceMs), EVENTS, OPTIONS), 'unexplained')
  t.equal(failureCause(failed(31_000), EVENTS, OPTIONS), 'killed worker')
  t.equal(failureCause(failed(31_000, { pid: 12 }), EVENTS, OPTIONS), 'unexplained', 'another worker\'s connection')
  t.equal(failureCause(failed(30_000 + OPTIONS.killGraceMs + 1), EVENTS, OPTIONS), 'unexplained', 'long after the kill')
  t.equal(failureCause(failed(12_000), [{ at: 10_000, kind: 'redis down' }], OPTIONS), 'redis down', 'an outage that never ended')
})

test('growth: the primary and Redis alone, the workers as their total; warm-up and young workers left out', async (t) => {
  const samples = [
    ...series('primary', 1, 0, 99, (s) => (s < 20 ? 50_000 : 100_000) + s * 10),
    ...series('redis', 2, 0, 99, () => 10_000),
    // worker 0 is replaced at 50 s; its share moves to worker 1, the total stays
    ...series('worker 0', 11, 0, 49, () => 40_000),
    ...series('worker 0', 21, 50, 99, () => 30_000),
    ...series('worker 1', 12, 0, 99, (s) => s < 50 ? 40_000 : 50_000)
  ]
  const grown = growths(samples, { ...OPTIONS, warmupMs: 20_000 })
  const row = (name: string, measure: string): { growth: number, flat: boolean } => grown.find((g) => g.name === name && g.measure === measure) as never
  t.same(grown.map((g) => g.name).filter((n, i, all) => all.indexOf(n) === i), ['primary', 'redis', 'workers'])
  t.ok(row('primary', 'rss').growth < 0.01 && row('primary', 'rss').flat, 'slow growth after warm-up is flat')
  t.equal(row('workers', 'rss').growth, 0, 'a worker replaced: the total did not move')
  t.equal(row('workers', 'heapUsed').growth, 0)
  t.equal(row('redis', 'fds').growth, 0)

  const leaking = growths(series('primary', 1, 0, 99, (s) => 100_000 + s * 1000), OPTIONS)
  t.notOk(leaking.find((g) => g.measure === 'rss')?.flat, 'a steady climb is not flat')
  const zero = growths(series('redis', 2, 0, 9, () => 0), OPTIONS)
  t.equal(zero[0]?.growth, 0, 'nothing to grow from')
  const noHeap = growths(series('redis', 2, 0, 9, () => 5000).map((s) => ({ ...s, heapUsed: null })), OPTIONS)
  t.same(noHeap.map((g) => g.measure), ['rss', 'fds'], 'no heap measured, no heap row')
  const partial = [...series('worker 0', 11, 0, 9, () => 1000), ...series('worker 1', 12, 0, 9, () => 1000).map((s) => ({ ...s, heapUsed: null }))]
  t.same(growths(partial, OPTIONS).map((g) => g.measure), ['rss', 'fds'], 'a worker without a heartbeat yet: no heap total')
})

test('the verdict: passes on a clean run; says why it does not', async (t) => {
  const samples = series('primary', 1, 0, 30, () => 1000)
  const clean = verdict([request(1000), failed(11_000, { failure: 'status 503' }), failed(30_500, { retried: true })], [], EVENTS, samples, OPTIONS)
  t.equal(clean.passed, true)
  t.same(clean.failures, { 'redis down': 1, 'killed worker': 1, unexplained: 0 })
  t.equal(clean.retried, 1)
  t.same(clean.redisRecoveryMs, [0], 'the Redis failure was before it came back')
  t.same(verdict([failed(16_000)], [], EVENTS, samples, OPTIONS).redisRecoveryMs, [1000])

  const bad = verdict([failed(50_000)], [{ at: 1, user: 'user-1', what: 'logged-in session answered 401' }], EVENTS, series('primary', 1, 0, 30, (s) => 1000 + s * 100), OPTIONS)
  t.equal(bad.passed, false)
  t.same(bad.reasons, [
    '1 requests failed outside the Redis outage and the killed workers\' connections',
    '1 session problems (a session lost or a view count wrong)',
    'primary rss grew 200.0 % after warm-up',
    'primary heapUsed grew 200.0 % after warm-up',
    'primary fds grew 300.0 % after warm-up'
  ])
  t.same(verdict([], [], [], [], VERDICT_DEFAULTS).reasons, ['no samples after warm-up: the run was too short to judge memory'])
})

test('the report and the picture', async (t) => {
  const records = [request(500), request(1500, { protocol: 'http/1.1', ms: 4 }), failed(11_000, { failure: 'status 503' }), failed(50_200), failed(50_300, { pid: null }), request(2000, { retried: true })]
  const samples = [...series('primary', 1, 0, 60, () => 2_000_000), ...series('worker 0', 11, 0, 60, () => 3_000_000)]
  const problems = [{ at: 52_000, user: 'user-3', what: 'views 4, expected 3' }]
  const result = verdict(records, problems, EVENTS, samples, OPTIONS)
  const info = { date: '2026-12-06', node: 'v20.20.2', minutes: 1, users: 2, workers: 2, store: 'RedisStore', chart: 'soak.svg' }
  const report = soakReport(info, records, EVENTS, result)
  t.match(report, /^# Soak report\n\n\*\*Did not pass\.\*\* 1 min on 2026-12-06, Node v20\.20\.2/)
  t.match(report, /\| h2 \| 5 \| 3 \| 2\.0 \| 2\.0 \|/)
  t.match(report, /\| http\/1\.1 \| 1 \| 0 \| 4\.0 \| 4\.0 \|/)
  t.match(report, /Redis down 1 \(the last 0\.0 s after it was back/)
  t.match(report, /anything else 2 \(must be 0\)\. 1 requests were sent again/)
  t.match(report, /\| ECONNRESET \| 2 \|\n\| status 503 \| 1 \|/)
  t.match(report, /- 50 s: 1 × ECONNRESET \(h2 GET \/me, worker 11\), 1 × ECONNRESET \(h2 GET \/me, worker \?\)/)
  t.match(report, /- 52\.0 s, user-3: views 4, expected 3/)
  t.match(report, /\| primary \| rss \| 1\.9 MB \| 1\.9 MB \| 0\.0 % \| yes \|/)
  t.match(report, /\| workers \| fds \| 3000 \| 3000 \| 0\.0 % \| yes \|/)
  t.match(report, /10 s redis down · 15 s redis up · 30 s kill -9 \(pid 11\) · 40 s rolling restart/)
  const clean = soakReport(info, [request(1)], [], verdict([request(1)], [], [], samples, OPTIONS))
  t.match(clean, /\*\*Passed\.\*\*/)
  t.match(clean, /No logged-in session answered 401/)
  t.notMatch(clean, /\| failure \| count \|/)
  t.match(clean, /\| h2 \| 1 \| 0 \| 2\.0 \| 2\.0 \|\n\| http\/1\.1 \| 0 \| 0 \| 0\.0 \| 0\.0 \|/, 'a protocol with no answers')

  const leaking = verdict([], [], [], series('primary', 1, 0, 30, (s) => 1_000_000 + s * 100_000), OPTIONS)
  t.match(soakReport(info, [], [], leaking), /\| primary \| rss \| 1\.2 MB \| 3\.6 MB \| 200\.0 % \| \*\*no\*\* \|/)

  t.same(perSecond(records, 3), { ok: [1, 1, 1], failed: [0, 0, 3] }, 'late records count in the last second')
  const svg = soakChart(records, samples, EVENTS, 60)
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960"/)
  t.equal(svg.match(/<path /g)?.length, 2 + 2 + 2 + 2, 'requests and failures, then RSS, heap and descriptors of two processes')
  t.match(svg, /<title>kill -9 at 30 s<\/title>/)
  t.match(svg, /stroke-dasharray="4,3"[^>]*><title>rolling restart at 40 s/)
  t.match(svg, /2\.9 MB<\/text>/, 'the RSS axis in MB')
  t.notMatch(svg, /NaN/)
  t.match(soakChart([], [], [], 10), /<\/svg>\n$/, 'an empty run still draws')
  t.match(soakChart([], [{ at: 0, name: 'a<b', pid: 1, rss: 5, fds: 1, heapUsed: null }], [], 10), /a&lt;b/, 'names are escaped')
})

test('samples from /proc: RSS and descriptors; a process gone or not reaped yet has none', async (t) => {
  const self = procStats(process.pid)
  t.ok(self !== null && self.rss > 10_000_000 && self.fds > 3, 'this process')
  t.equal(procStats(2 ** 30), null, 'no such pid')
  const proc = await mkdtemp(join(tmpdir(), 'soak-proc-'))
  t.teardown(async () => { await rm(proc, { recursive: true, force: true }) })
  await mkdir(join(proc, '7', 'fd'), { recursive: true })
  await writeFile(join(proc, '7', 'status'), 'Name:\tnode\nState:\tZ (zombie)\n')
  t.equal(procStats(7, proc), null, 'a zombie has no VmRSS')
  await writeFile(join(proc, '7', 'status'), 'Name:\tnode\nVmRSS:\t   2048 kB\n')
  await writeFile(join(proc, '7', 'fd', '0'), '')
  t.same(procStats(7, proc), { rss: 2048 * 1024, fds: 1 })

  const fleet = { primary: { memory: { heapUsed: 123 } }, workers: [{ pid: process.pid, slot: 1, memory: null }, { pid: 2 ** 30, slot: 0, memory: { heapUsed: 9 } }] }
  const samples = sampleProcesses(5, process.pid, fleet, process.pid)
  t.same(samples.map((s) => [s.at, s.name, s.heapUsed]), [[5, 'primary', 123], [5, 'worker 1', null], [5, 'redis', null]], 'a worker gone is left out')
  t.same(sampleProcesses(5, process.pid, { primary: null, workers: [] }, null).map((s) => [s.name, s.heapUsed]), [['primary', null]])
})
