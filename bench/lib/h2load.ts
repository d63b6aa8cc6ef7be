import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ToolMissingError, type LoadParams, type LoadResult } from './load.js'
import type { LoadRequest, Target } from './scenario.js'

/** What `parseH2loadOutput()` reads from h2load's summary. */
export interface H2loadSummary {
  /** `finished in <elapsed>`, in milliseconds (includes the warm-up time, if any). */
  elapsedMs: number
  /** `<x> req/s`: h2load's own figure (successful requests over the measured duration). */
  rps: number
  requests: {
    total: number
    started: number
    done: number
    succeeded: number
    failed: number
    errored: number
    timeout: number
  }
  status: { '2xx': number, '3xx': number, '4xx': number, '5xx': number }
  /** `time for request` mean, in milliseconds; `NaN` when absent. */
  meanMs: number
  /** `Application protocol: h2` (`undefined` when no connection was made). */
  protocol: string | undefined
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses an h2load duration (`783us`, `5.01ms`, `3.01s`) into milliseconds; `NaN` when it is not one. */
export function parseH2loadDuration (text: string): number {
  const match = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(text.trim())
  if (match === null) return Number.NaN
  return Number(match[1]) * UNIT_MS[match[2]!]!
}

/**
 * Parses the summary h2load prints at the end of a run (nghttp2 1.4x–1.6x format):
 *
 * ```
 * finished in 3.01s, 19785.00 req/s, 1003.46KB/s
 * requests: 39570 total, 39570 started, 39570 done, 39570 succeeded, 0 failed, 0 errored, 0 timeout
 * status codes: 39500 2xx, 0 3xx, 0 4xx, 0 5xx
 * time for request:      783us     27.28ms      5.01ms      2.55ms    83.98%
 * ```
 *
 * Throws when the `finished in` or `requests:` line is missing (h2load did not run to the end).
 */
export function parseH2loadOutput (stdout: string): H2loadSummary {
  const finished = /^finished in (\S+), ([\d.]+) req\/s/m.exec(stdout)
  const requests = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(stdout)
  if (finished === null || requests === null) {
    throw new Error('h2load output has no summary ("finished in …" / "requests: …" lines)')
  }
  const status = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(stdout)
  const timeForRequest = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(stdout)
  const protocol = /^Application protocol: (\S+)/m.exec(stdout)
  const n = (m: RegExpExecArray | null, i: number): number => Number(m?.[i] ?? 0)
  return {
    elapsedMs: parseH2loadDuration(finished[1]!),
    rps: Number(finished[2]),
    requests: {
      total: n(requests, 1),
      started: n(requests, 2),
      done: n(requests, 3),
      succeeded: n(requests, 4),
      failed: n(requests, 5),
      errored: n(requests, 6),
      timeout: n(requests, 7)
    },
    status: { '2xx': n(status, 1), '3xx': n(status, 2), '4xx': n(status, 3), '5xx': n(status, 4) },
    meanMs: timeForRequest === null ? Number.NaN : parseH2loadDuration(timeForRequest[3]!),
    protocol: protocol?.[1]
  }
}

/** h2load's summary as a `LoadResult`: failures = failed requests (errored and timed out included) + non-2xx responses. */
export function h2loadResult (summary: H2loadSummary): LoadResult {
  const { requests, status } = summary
  return {
    rps: summary.rps,
    requests: requests.succeeded,
    failures: requests.failed + status['3xx'] + status['4xx'] + status['5xx'],
    p99Ms: Number.NaN,
    meanMs: summary.meanMs,
    protocol: summary.protocol
  }
}

/**
 * Command-line arguments of one timed h2load run: `-D` (in ms, as h2load takes no fractions of
 * a second) makes it timing-based, so `-n` is not given (h2load ignores it with `-D`).
 */
export function h2loadArgs (url: string, request: LoadRequest, params: LoadParams, bodyFile?: string): string[] {
  const args = [
    '-c', String(params.connections),
    '-m', String(params.streams),
    '-t', '1',
    '-D', `${Math.max(1, Math.round(params.duration * 1000))}ms`
  ]
  if (request.method !== 'GET') args.push('-H', `:method: ${request.method}`)
  for (const [name, value] of Object.entries(request.headers)) args.push('-H', `${name}: ${value}`)
  if (bodyFile !== undefined) args.push('-d', bodyFile)
  args.push(url)
  return args
}

/** `h2load --version`'s first line, or `null` when h2load is not installed. */
export async function h2loadVersion (): Promise<string | null> {
  try {
    const out = await execute('h2load', ['--version'], 10_000)
    return out.stdout.trim().split('\n')[0] ?? 'h2load'
  } catch (err) {
    if (err instanceof ToolMissingError) return null
    throw err
  }
}

/** One h2load run against `target`; killed after `duration + 30 s` or when `signal` aborts. */
export async function runH2load (target: Target, request: LoadRequest, params: LoadParams, signal?: AbortSignal): Promise<LoadResult> {
  let dir: string | undefined
  try {
    let bodyFile: string | undefined
    if (request.body !== undefined) {
      dir = await mkdtemp(join(tmpdir(), 'fleet-bench-'))
      bodyFile = join(dir, 'body')
      await writeFile(bodyFile, request.body)
    }
    const args = h2loadArgs(`${target.origin}${request.path}`, request, params, bodyFile)
    const { stdout, stderr, code } = await execute('h2load', args, params.duration * 1000 + 30_000, signal)
    let summary: H2loadSummary
    try {
      summary = parseH2loadOutput(stdout)
    } catch (err) {
      throw new Error(`h2load exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`, { cause: err })
    }
    return h2loadResult(summary)
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }
}

interface Executed { stdout: string, stderr: string, code: number | null }

function execute (command: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<Executed> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', ...(signal === undefined ? {} : { signal }) })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new ToolMissingError(command) : err)
    })
    child.once('close', (code) => resolve({ stdout, stderr, code }))
  })
}
