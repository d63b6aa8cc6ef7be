// examples/multi-host: SIGHUP to the launcher restarts each host's workers in turn, under load
// through nginx (h2load over HTTP/2, then wrk over HTTP/1.1), and no request fails.
import t, { test } from 'tap'
import type { FixtureProcess, LogLine } from '../helpers/fixture-process.js'
import { h2loadRun, loadThrough, requireLoadTools, wrkRun, type Tally } from '../helpers/load-tools.js'
import { browser, launch, login, own, stopsCleanly } from '../helpers/multi-host.js'

// nine processes under the TypeScript loader, and their replacements, on a shared machine
t.setTimeout(900_000)

/** The workers each host has now: ready, and not stopped or dead since. */
function workersByHost (fx: FixtureProcess): Map<string, Set<number>> {
  const byHost = new Map<string, Set<number>>()
  for (const line of fx.lines.filter((l) => l.host !== undefined)) {
    const set = byHost.get(line.host) ?? new Set<number>()
    byHost.set(line.host, set)
    if (line.msg === 'worker ready') set.add(line.workerPid)
    if (line.msg === 'worker stopped' || line.msg === 'worker died') set.delete(line.workerPid)
  }
  return byHost
}

/** SIGHUP to the launcher under back-to-back loads until every host is done; what each host reported. */
async function restartUnderLoad (fx: FixtureProcess, load: (tally: Tally) => Promise<void>): Promise<{ tally: Tally, reports: LogLine[] }> {
  const from = fx.lines.length
  const done = fx.waitFor((l) => own(fx, 'rolling restart of the hosts done')(l) && fx.lines.indexOf(l) >= from, 'the rolling restart of the hosts', 600_000)
  // at most 100 runs, then one on the new workers alone
  const { tally } = await loadThrough(() => fx.child.kill('SIGHUP'), done, load, 100)
  return { tally, reports: fx.lines.slice(from).filter((l) => l.msg === 'rolling restart done') }
}

test('SIGHUP to the launcher under h2load, then wrk, through nginx: every worker of every host replaced, no request failed', async (t) => {
  if (!(await requireLoadTools(t))) return
  const run = await launch(t, { WORKERS: '2' })
  if (run === null) return
  const b = browser(run.origin)
  t.equal((await b.request('/login', login)).status, 200)
  const cookie = `cookie: ${[...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')}`
  const url = `${run.origin}/me`

  const first = workersByHost(run.fx)
  t.same([...first.keys()].sort(), ['app-1', 'app-2', 'app-3'])
  const h2 = await restartUnderLoad(run.fx, async (tally) => await h2loadRun(url, { requests: 3600 }, tally, [cookie]))
  t.same(h2.reports.map((r) => [r.host, r.replaced, r.failed]), [['app-1', 2, 0], ['app-2', 2, 0], ['app-3', 2, 0]], 'one host after the other')
  t.comment(`h2load: ${h2.tally.done} requests in ${h2.tally.runs} runs`)
  t.ok(h2.tally.done >= 500, `h2load made ${h2.tally.done} requests`)
  t.strictSame({ failed: h2.tally.failed, notOk: h2.tally.notOk }, { failed: 0, notOk: 0 }, 'h2load: no failed request, every answer a 2xx')
  const second = workersByHost(run.fx)
  for (const [host, pids] of second) {
    t.equal(pids.size, 2, `${host}: two workers`)
    t.ok([...pids].every((pid) => !(first.get(host) as Set<number>).has(pid)), `${host}: every worker is new`)
  }

  const h1 = await restartUnderLoad(run.fx, async (tally) => await wrkRun(url, 3, tally, [cookie]))
  t.same(h1.reports.map((r) => [r.host, r.replaced, r.failed]), [['app-1', 2, 0], ['app-2', 2, 0], ['app-3', 2, 0]])
  t.comment(`wrk: ${h1.tally.done} requests in ${h1.tally.runs} runs`)
  t.ok(h1.tally.done >= 500, `wrk made ${h1.tally.done} requests`)
  t.strictSame({ failed: h1.tally.failed, notOk: h1.tally.notOk }, { failed: 0, notOk: 0 }, 'wrk: no socket error, every answer a 2xx')
  t.equal(run.fx.lines.filter((l) => l.msg === 'worker died').length, 0, 'no worker died')

  const me = await b.request('/me')
  t.equal(me.status, 200, 'still logged in')
  t.ok(JSON.parse(me.body).views > 1, 'the session kept its data')
  await stopsCleanly(t, run)
})
