// Rolling restarts (SIGHUP) under steady load: h2load over HTTP/2, wrk over HTTP/1.1 keep-alive.
// Loads run back to back, a few seconds each, from before the signal until the restart is done.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { parseH2loadOutput } from '../../bench/lib/h2load-pure.js'
import { freePort } from '../helpers/ports.js'
import { msg, startFixture, type FixtureProcess } from '../helpers/fixture-process.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'

const APP = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url))
let tls: KeyPair
t.before(async () => { tls = await selfSignedPair() })
// real processes under load start slowly: more than tap's default two minutes for the file
t.setTimeout(600_000)

interface Tally { runs: number, done: number, failed: number, notOk: number }

async function run (command: string, args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.once('error', reject)
    child.once('close', () => resolve(out))
  })
}

/** One h2load run of `seconds`: 4 connections × 10 streams on GET /health. */
async function h2loadRun (origin: string, seconds: number, tally: Tally): Promise<void> {
  const summary = parseH2loadOutput(await run('h2load', ['-c', '4', '-m', '10', '-t', '1', '-D', `${seconds}`, `${origin}/health`]))
  tally.runs++
  tally.done += summary.requests.done
  tally.failed += summary.requests.failed + summary.requests.errored + summary.requests.timeout
  tally.notOk += summary.status['4xx'] + summary.status['5xx']
}

/** One wrk run of `seconds`: 4 keep-alive HTTP/1.1 connections on GET /health. */
async function wrkRun (origin: string, seconds: number, tally: Tally): Promise<void> {
  const out = await run('wrk', ['-t', '1', '-c', '4', '-d', `${seconds}s`, `${origin}/health`])
  const total = /(\d+) requests in/.exec(out)
  if (total === null) throw new Error(`wrk printed no summary: ${out}`)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  tally.runs++
  tally.done += Number(total[1])
  tally.failed += errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0)
  tally.notOk += non2xx === null ? 0 : Number(non2xx[1])
}

const workerPids = (app: FixtureProcess, since: number): Set<number> => {
  const lines = app.lines.slice(since)
  const gone = new Set(lines.filter((l) => l.msg === 'worker died' || l.msg === 'worker stopped').map((l) => l.workerPid as number))
  return new Set(lines.filter(msg('worker ready')).map((l) => l.workerPid as number).filter((pid) => !gone.has(pid)))
}

/** Sends SIGHUP to the primary under back-to-back loads until the restart is done. */
async function reloadUnderLoad (app: FixtureProcess, load: (tally: Tally) => Promise<void>): Promise<{ tally: Tally, report: Record<string, unknown> }> {
  const from = app.lines.length
  const done = app.waitFor((l) => l.msg === 'rolling restart done' && app.lines.indexOf(l) >= from, 'the rolling restart', 150_000)
  const state = { finished: false }
  done.then(() => { state.finished = true }, () => { state.finished = true })
  const tally: Tally = { runs: 0, done: 0, failed: 0, notOk: 0 }
  const signal = setTimeout(() => app.child.kill('SIGHUP'), 1000)
  // bounded: at most 60 runs of 3 s
  for (let i = 0; i < 60 && !state.finished; i++) await load(tally)
  clearTimeout(signal)
  const report = await done
  // and one more load on the new workers alone
  await load(tally)
  return { tally, report }
}

test('SIGHUP under load replaces every worker one at a time and fails no request, over HTTP/2 and HTTP/1.1', async (t) => {
  const port = await freePort()
  const app = startFixture(t, APP, { TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(port), WORKERS: '2', READY_TIMEOUT: '60000' })
  await app.waitForCount(msg('worker ready'), 2, 'two workers', 60_000)
  const origin = `https://127.0.0.1:${port}`

  const first = workerPids(app, 0)
  const h2 = await reloadUnderLoad(app, async (tally) => await h2loadRun(origin, 3, tally))
  t.strictSame(h2.report.replaced, 2, 'both workers replaced')
  t.strictSame(h2.report.failed, 0)
  t.ok(h2.tally.runs >= 2 && h2.tally.done > 1000, `${h2.tally.done} requests in ${h2.tally.runs} h2load runs`)
  t.equal(h2.tally.failed, 0, 'h2load: no failed, errored or timed-out request')
  t.equal(h2.tally.notOk, 0, 'h2load: every response 2xx')
  const second = workerPids(app, 0)
  t.equal(second.size, 2)
  t.ok([...second].every((pid) => !first.has(pid)), 'every worker is new')
  t.equal(app.lines.filter(msg('worker died')).length, 0, 'no worker died')

  const h1 = await reloadUnderLoad(app, async (tally) => await wrkRun(origin, 3, tally))
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
