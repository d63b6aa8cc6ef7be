import { test } from 'tap'
import { PM2_COMPARE_SECTION, pm2CompareSection, pm2CompareSelected, pm2CompareVerdict, type ManagerResult } from '../../bench/pm2/section.js'

const MB = 1024 * 1024
const results: ManagerResult[] = [
  {
    manager: 'startCluster (workers: 2)',
    trigger: 'SIGHUP to the primary',
    startMs: 991.6,
    primaryRss: 70 * MB,
    workerRss: [90 * MB, 91.5 * MB],
    reloads: [
      { load: 'h2load (HTTP/2)', runs: 3, requests: 186030, failures: 0, non2xx: 0, restartMs: 2412 },
      { load: 'autocannon (HTTP/1.1 TLS)', runs: 2, requests: 72001, failures: 0, non2xx: 0, restartMs: 1100 }
    ]
  },
  {
    manager: 'pm2 7.0.4 cluster mode (instances: 2)',
    trigger: 'pm2 reload fleet-bench',
    startMs: 1011,
    primaryRss: 58.8 * MB,
    workerRss: [89 * MB, 91 * MB],
    reloads: [
      { load: 'h2load (HTTP/2)', runs: 4, requests: 224720, failures: 25620, non2xx: 25600, restartMs: 5100 },
      { load: 'autocannon (HTTP/1.1 TLS)', runs: 10, requests: 0, failures: 7, non2xx: 0, restartMs: null, error: 'the old workers still ran when the loads ended' }
    ],
    note: 'daemon launch (pm2 ping) 641 ms, not in the start time'
  },
  { manager: 'other', error: 'no PM2 daemon' }
]

test('pm2CompareSelected: always without BENCH_ONLY, else when the text is in its name (any case)', async (t) => {
  t.equal(pm2CompareSelected(undefined), true)
  t.equal(pm2CompareSelected('pm2'), true)
  t.equal(pm2CompareSelected('PM2/Compare'), true)
  t.equal(pm2CompareSelected('redis'), false)
})

test('pm2CompareVerdict: the failed requests of each restart, or not measured', async (t) => {
  t.equal(pm2CompareVerdict(results),
    'startCluster (workers: 2): 0 failed (h2load), 0 failed (autocannon); pm2 7.0.4 cluster mode (instances: 2): 25620 failed (h2load), 7 failed (autocannon); other: not measured')
  t.equal(pm2CompareVerdict([]), '')
})

test('pm2CompareSection: heading, method, the memory and restart tables, the verdict; or the failure', async (t) => {
  const text = pm2CompareSection({ results })
  t.match(text, /^## startCluster vs PM2 cluster mode: rolling restart, memory, start time/)
  t.match(text, /\| startCluster \(workers: 2\) +\| +992 \| +70\.0 \| +90\.0 \+ 91\.5 \| +251\.5 \| +\|/)
  t.match(text, /\| pm2 7\.0\.4 cluster mode \(instances: 2\) \| +1011 \| +58\.8 \| +89\.0 \+ 91\.0 \| +238\.8 \| daemon launch \(pm2 ping\) 641 ms, not in the start time \|/)
  t.match(text, /\| other +\| +\| +\| +\| +\| not measured: no PM2 daemon +\|/)
  t.match(text, /\| startCluster \(workers: 2\) +\| SIGHUP to the primary +\| h2load \(HTTP\/2\) +\| +3 \| +186030 \| +0 \| +0 \| +2\.4 \| +\|/)
  t.match(text, /\| pm2 reload fleet-bench \| h2load \(HTTP\/2\) +\| +4 \| +224720 \| +25620 \| +25600 \| +5\.1 \| +\|/)
  t.match(text, /\| autocannon \(HTTP\/1\.1 TLS\) \| +10 \| +0 \| +7 \| +0 \| +not done \| the old workers still ran when the loads ended \|/)
  t.ok(text.endsWith(pm2CompareVerdict(results)))
  t.match(pm2CompareSection({ error: 'no result within 240 s' }), /\n\nfailed: no result within 240 s$/)
})

test('PM2_COMPARE_SECTION: takes the result message and nothing else, and renders both outcomes', async (t) => {
  t.same(PM2_COMPARE_SECTION.resultOf({ type: 'pm2-compare-result', results }), results)
  t.equal(PM2_COMPARE_SECTION.resultOf({ type: 'ipc-result', results }), undefined)
  t.equal(PM2_COMPARE_SECTION.resultOf(null), undefined)
  t.match(PM2_COMPARE_SECTION.file.pathname, /\/bench\/pm2\/compare\.js$/)
  t.same(PM2_COMPARE_SECTION.render(results), { section: pm2CompareSection({ results }), verdict: pm2CompareVerdict(results) })
  t.equal(PM2_COMPARE_SECTION.renderError('boom'), pm2CompareSection({ error: 'boom' }))
})
