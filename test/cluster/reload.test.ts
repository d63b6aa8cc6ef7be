// Rolling restarts (SIGHUP) under steady load: h2load over HTTP/2, wrk over HTTP/1.1 keep-alive.
// Loads run back to back, a few seconds each, from before the signal until the restart is done.
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { freePort } from '../helpers/ports.js'
import { msg, startFixture, type FixtureProcess } from '../helpers/fixture-process.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'
import { h2loadRun, loadThrough, requireLoadTools, wrkRun, type Tally } from '../helpers/load-tools.js'

const APP = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url))
let tls: KeyPair
t.before(async () => { tls = await selfSignedPair() })
// real processes under load start slowly: more than tap's default two minutes for the file
t.setTimeout(600_000)

const workerPids = (app: FixtureProcess, since: number): Set<number> => {
  const lines = app.lines.slice(since)
  const gone = new Set(lines.filter((l) => l.msg === 'worker died' || l.msg === 'worker stopped').map((l) => l.workerPid as number))
  return new Set(lines.filter(msg('worker ready')).map((l) => l.workerPid as number).filter((pid) => !gone.has(pid)))
}

/** Sends SIGHUP to the primary under back-to-back loads until the restart is done. */
async function reloadUnderLoad (app: FixtureProcess, load: (tally: Tally) => Promise<void>): Promise<{ tally: Tally, report: Record<string, unknown> }> {
  const from = app.lines.length
  const done = app.waitFor((l) => l.msg === 'rolling restart done' && app.lines.indexOf(l) >= from, 'the rolling restart', 150_000)
  // at most 60 runs of 3 s, then one on the new workers alone
  const { tally, result } = await loadThrough(() => app.child.kill('SIGHUP'), done, load, 60)
  return { tally, report: result }
}

test('SIGHUP under load replaces every worker one at a time and fails no request, over HTTP/2 and HTTP/1.1', async (t) => {
  if (!(await requireLoadTools(t))) return
  const port = await freePort()
  const app = startFixture(t, APP, { TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(port), WORKERS: '2', READY_TIMEOUT: '60000' })
  await app.waitForCount(msg('worker ready'), 2, 'two workers', 60_000)
  const origin = `https://127.0.0.1:${port}`

  const first = workerPids(app, 0)
  const h2 = await reloadUnderLoad(app, async (tally) => await h2loadRun(`${origin}/health`, { seconds: 3 }, tally))
  t.strictSame(h2.report.replaced, 2, 'both workers replaced')
  t.strictSame(h2.report.failed, 0)
  t.ok(h2.tally.runs >= 2 && h2.tally.done > 1000, `${h2.tally.done} requests in ${h2.tally.runs} h2load runs`)
  t.equal(h2.tally.failed, 0, 'h2load: no failed, errored or timed-out request')
  t.equal(h2.tally.notOk, 0, 'h2load: every response 2xx')
  const second = workerPids(app, 0)
  t.equal(second.size, 2)
  t.ok([...second].every((pid) => !first.has(pid)), 'every worker is new')
  t.equal(app.lines.filter(msg('worker died')).length, 0, 'no worker died')

  const h1 = await reloadUnderLoad(app, async (tally) => await wrkRun(`${origin}/health`, 3, tally))
  t.strictSame(h1.report.replaced, 2, 'both workers replaced again')
  t.ok(h1.tally.runs >= 2 && h1.tally.done > 1000, `${h1.tally.done} requests in ${h1.tally.runs} wrk runs`)
  t.equal(h1.tally.failed, 0, 'wrk: no socket error')
  t.equal(h1.tally.notOk, 0, 'wrk: every response 2xx')
  const third = workerPids(app, 0)
  t.equal(third.size, 2)
  t.ok([...third].every((pid) => !second.has(pid) && !first.has(pid)), 'every worker is new again')

  app.child.kill('SIGTERM')
  t.strictSame(await app.exit, 0)
})
