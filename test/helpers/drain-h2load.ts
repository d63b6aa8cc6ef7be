/**
 * h2load against a server that drains mid-run, and the tools the cross-version drain tests need:
 * h2load itself, and the executable of another Node version (through `npx -y node@<major>`).
 * What cannot be had follows `./services.ts`'s policy: with `CI=true` the test fails, otherwise
 * it records a skip with the reason.
 */
import { execFile } from 'node:child_process'
import type { Test } from 'tap'
import { parseH2loadOutput, type H2loadSummary } from '../../bench/lib/h2load-pure.js'
import type { DrainReport } from '../../plugins/cluster/drain.js'
import { h2loadDuring, type DrainTarget } from './drain-targets.js'
import { unavailable } from './services.js'

/** 4 connections × 10 streams for 2 s against `/work` (`WORK_MS` each); the shutdown starts 400 ms into the load. */
export const H2LOAD_ARGS = ['-D', '2', '-c', '4', '-m', '10', '-t', '1']

/** The last line of `stderr` that says something (npm ends with where its log is: not the reason). */
const lastWords = (stderr: string): string | undefined =>
  stderr.trim().split('\n').filter((line) => line.trim() !== '' && !line.includes('A complete log of this run')).pop()

function run (file: string, args: string[], timeout: number): Promise<{ stdout: string } | { error: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const why = lastWords(stderr)
      if (err === null) resolve({ stdout })
      else resolve({ error: `${err.message.split('\n')[0] as string}${why === undefined ? '' : `: ${why}`}` })
    })
  })
}

/** Whether h2load runs; when it does not, applies the policy and resolves with `false`. */
export async function requireH2load (t: Test): Promise<boolean> {
  const found = await run('h2load', ['--version'], 10_000)
  if ('error' in found) {
    unavailable(t, `h2load unavailable (Debian/Ubuntu: apt-get install nghttp2-client): ${found.error}`)
    return false
  }
  return true
}

/**
 * npx options: a Node already in npm's cache is used without asking the registry, and without a
 * registry (offline) npx gives up after about 5 s instead of 70 s (its default retries wait 10 s
 * then 60 s): a test file has two minutes for everything, and may need two or three versions.
 */
const NPX_OPTIONS = ['--prefer-offline', '--fetch-retries=2', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=4000']

/**
 * The executable of Node `major` (`process.execPath` when it is this process's major), through
 * `npx -y node@<major>` (a download the first time, then npm's cache); `null` after applying the
 * policy when npx fails (no network, no registry, and not in the cache).
 */
export async function nodeExecutable (t: Test, major: number): Promise<string | null> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  const found = await run('npx', [...NPX_OPTIONS, '-y', `node@${major}`, '-p', 'process.execPath'], 180_000)
  if ('error' in found) return unavailable(t, `Node ${major} unavailable through npx -y node@${major}: ${found.error}`)
  return found.stdout.trim().split('\n').pop() as string
}

/** What one h2load run with a shutdown in the middle gave. */
export interface H2loadRun {
  summary: H2loadSummary
  result: { report?: DrainReport, sessions?: number, ms: number }
}

export const describeRun = (run: H2loadRun): string => {
  const { requests, status } = run.summary
  return `${requests.started} started, ${requests.succeeded} succeeded, ${requests.failed} failed, ${requests.errored} errored; ${status['2xx']} 2xx, ${status['5xx']} 5xx`
}

/**
 * h2load with `fastify.fleet.drain()` mid-run: nothing fails, every response is a 2xx, and every
 * session got the two-step GOAWAY. Then the same with the one-step shutdown on a fresh server:
 * what h2load counts is returned (a race: it loses the requests in flight on the wire, when there
 * are some at that moment).
 */
export async function checkH2load (t: Test, target: () => Promise<DrainTarget>): Promise<{ twoStep: H2loadRun, oneStep: H2loadRun }> {
  const server = await target()
  const drained = await h2loadDuring(server, 'drain', H2LOAD_ARGS)
  const twoStep = { summary: parseH2loadOutput(drained.stdout), result: drained.result }
  const { requests, status } = twoStep.summary
  t.comment(`Node ${server.node}, two-step GOAWAY (fleet.drain()): ${describeRun(twoStep)}`)
  t.ok(requests.done >= 40, `h2load completed ${requests.done} requests`)
  t.strictSame(
    { failed: requests.failed, errored: requests.errored, timeout: requests.timeout, notDone: requests.started - requests.done, '3xx': status['3xx'], '4xx': status['4xx'], '5xx': status['5xx'] },
    { failed: 0, errored: 0, timeout: 0, notDone: 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    'h2load: 0 failed, 0 errored, every request answered'
  )
  t.equal(status['2xx'], requests.succeeded, 'every response a 2xx')
  t.strictSame(twoStep.result.report, { sessions: 4, sockets: 0, destroyed: 0 }, 'the 4 sessions got the two-step GOAWAY')

  const oneStepServer = await target()
  const closed = await h2loadDuring(oneStepServer, 'one-step', H2LOAD_ARGS)
  const oneStep = { summary: parseH2loadOutput(closed.stdout), result: closed.result }
  t.comment(`Node ${server.node}, one-step (session.close() on every session): ${describeRun(oneStep)}`)
  t.ok(oneStep.summary.requests.done >= 40, `h2load completed ${oneStep.summary.requests.done} requests`)
  t.equal(oneStep.result.sessions, 4)
  return { twoStep, oneStep }
}
