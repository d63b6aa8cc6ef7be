import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { h2loadArgs, h2loadResult, parseH2loadOutput, type H2loadSummary } from './h2load-pure.js'
import { ToolMissingError, type LoadParams, type LoadResult } from './load.js'
import type { LoadRequest, Target } from './scenario.js'

export { h2loadArgs, h2loadResult, parseH2loadDuration, parseH2loadOutput, type H2loadSummary } from './h2load-pure.js'

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
