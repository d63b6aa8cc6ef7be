// The harness side of a micro-benchmark that runs after the scenarios in a child process of its own
// (no HTTP, no anchor: `bench/ipc/`, `bench/tiered/`): the child sends its result as one IPC message,
// and the harness prints the section made of it and appends it to RESULTS.md.
import { fork } from 'node:child_process'
import { appendFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { adoptChild } from './server-process.js'

/** A micro-benchmark's outcome: its section of RESULTS.md, and whether it failed to measure. */
export interface SectionOutcome {
  section: string
  failed: boolean
}

/** What the harness needs to run one micro-benchmark. */
export interface ChildSection<T> {
  /** Its name in the log, e.g. `ipc round trip`. */
  label: string
  /** The compiled module the child runs. */
  file: URL
  /** Seconds it may take before it is killed and reported as failed. */
  deadlineSeconds: number
  /** The result in `message`, when it is the result message; else `undefined`. */
  resultOf: (message: unknown) => T | undefined
  /** The section of a result, and the line the log gets. */
  render: (result: T) => { section: string, verdict: string }
  /** The section of a failure. */
  renderError: (message: string) => string
}

/**
 * Runs `spec.file` in a child process, waits for its result, and gives the section. The child is
 * adopted by the harness's clean-up, so Ctrl-C or a harness exit stops it; past the deadline it is
 * killed (with whatever it forked, which exits on IPC disconnect).
 */
export async function runChildSection<T> (spec: ChildSection<T>, signal: AbortSignal, log: (line: string) => void): Promise<SectionOutcome> {
  const { label, deadlineSeconds } = spec
  log(`[${label}] ${deadlineSeconds} s at most`)
  signal.throwIfAborted()
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.NODE_ENV
  const child = fork(fileURLToPath(spec.file), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  adoptChild(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  try {
    const result = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no result within ${deadlineSeconds} s`)), deadlineSeconds * 1000)
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      child.on('message', (message: unknown) => {
        const found = spec.resultOf(message)
        if (found !== undefined) resolve(found)
      })
      child.once('exit', (code, sig) => reject(new Error(`the benchmark exited before its result (${sig ?? `code ${code}`})`)))
      child.once('error', reject)
      exited.finally(() => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      })
    })
    const { section, verdict } = spec.render(result)
    log(`[${label}] ${verdict}`)
    return { section, failed: false }
  } catch (err) {
    if (signal.aborted) throw err
    const message = err instanceof Error ? err.message : String(err)
    log(`[${label}] failed: ${message}`)
    return { section: spec.renderError(message), failed: true }
  } finally {
    await stop()
  }
}

/** Appends the section to the RESULTS.md just written. */
export async function appendSection (file: string, outcome: SectionOutcome): Promise<void> {
  await appendFile(file, `\n${outcome.section}\n`)
}
