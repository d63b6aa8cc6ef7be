/**
 * h2load (HTTP/2) and wrk (HTTP/1.1 keep-alive) runs of a few seconds each, their counts added to a
 * tally: how the rolling-restart and failure tests put a server under steady load.
 */
import { spawn } from 'node:child_process'
import type { Test } from 'tap'
import { parseH2loadOutput } from '../../bench/lib/h2load-pure.js'
import { requireH2load } from './drain-h2load.js'
import { unavailable } from './services.js'

/** What the runs so far did. `failed`: socket errors and timeouts; `notOk`: 4xx and 5xx answers. */
export interface Tally { runs: number, done: number, failed: number, notOk: number }

export const newTally = (): Tally => ({ runs: 0, done: 0, failed: 0, notOk: 0 })

/** Runs `command` (killed after 30 s); its standard output and error, together. */
export async function runTool (command: string, args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.once('error', reject)
    child.once('close', () => resolve(out))
  })
}

/**
 * Back-to-back `load` runs until `until` settles (at most `maxRuns`, each ended within 30 s by
 * `runTool`), with `event` (a signal, a kill) 1 s into the first; then one more run on what is
 * left afterwards. Resolves with the tally and what `until` resolved to.
 */
export async function loadThrough<T> (event: () => void, until: Promise<T>, load: (tally: Tally) => Promise<void>, maxRuns: number): Promise<{ tally: Tally, result: T }> {
  const state = { finished: false }
  until.then(() => { state.finished = true }, () => { state.finished = true })
  const tally = newTally()
  const timer = setTimeout(event, 1000)
  for (let i = 0; i < maxRuns && !state.finished; i++) await load(tally)
  clearTimeout(timer)
  const result = await until
  await load(tally)
  return { tally, result }
}

/** Whether h2load and wrk both run; when one does not, applies the services policy and resolves with `false`. */
export async function requireLoadTools (t: Test): Promise<boolean> {
  if (!(await requireH2load(t))) return false
  const wrk = await runTool('wrk', ['--version']).catch((err: Error) => err.message)
  if (wrk.includes('wrk')) return true
  unavailable(t, `wrk unavailable (Debian/Ubuntu: apt-get install wrk): ${wrk}`)
  return false
}

/** Extra request headers, as `name: value`. */
const headerArgs = (headers: string[]): string[] => headers.flatMap((h) => ['-H', h])

/**
 * One h2load run: 4 connections × 10 streams on GET `url`, for `seconds` or for `requests`. Through
 * nginx, use `requests` under 4 × 1000: nginx ends an HTTP/2 connection after 1000 requests
 * (`keepalive_requests`) with a GOAWAY, and h2load counts the streams it refused as errors where a
 * browser would send them again on a new connection.
 */
export async function h2loadRun (url: string, limit: { seconds: number } | { requests: number }, tally: Tally, headers: string[] = []): Promise<void> {
  const count = 'seconds' in limit ? ['-D', `${limit.seconds}`] : ['-n', `${limit.requests}`]
  const summary = parseH2loadOutput(await runTool('h2load', ['-c', '4', '-m', '10', '-t', '1', ...count, ...headerArgs(headers), url]))
  tally.runs++
  tally.done += summary.requests.done
  tally.failed += summary.requests.failed + summary.requests.errored + summary.requests.timeout
  tally.notOk += summary.status['4xx'] + summary.status['5xx']
}

/** One wrk run of `seconds`: 4 keep-alive HTTP/1.1 connections on GET `url`. */
export async function wrkRun (url: string, seconds: number, tally: Tally, headers: string[] = []): Promise<void> {
  const out = await runTool('wrk', ['-t', '1', '-c', '4', '-d', `${seconds}s`, ...headerArgs(headers), url])
  const total = /(\d+) requests in/.exec(out)
  if (total === null) throw new Error(`wrk printed no summary: ${out}`)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  tally.runs++
  tally.done += Number(total[1])
  tally.failed += errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0)
  tally.notOk += non2xx === null ? 0 : Number(non2xx[1])
}
