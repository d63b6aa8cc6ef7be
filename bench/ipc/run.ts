// The harness side of the IPC round-trip micro-benchmark: `bench/run.ts` calls `runIpcBench()` after
// the scenarios (unless `BENCH_ONLY` leaves it out), prints its section and appends it to RESULTS.md.
import { fork } from 'node:child_process'
import { appendFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { adoptChild } from '../lib/server-process.js'
import { ipcSection, ipcVerdict, type IpcBenchResult, type IpcResultMessage } from './latency.js'

export { ipcSelected } from './latency.js'

/** The benchmark's outcome: its section of RESULTS.md, and whether it failed to measure. */
export interface IpcBenchOutcome {
  section: string
  failed: boolean
}

/** Seconds the benchmark may take before it is killed and reported as failed. */
const DEADLINE_SECONDS = 120

/**
 * Runs `dist/bench/ipc/round-trip.js` in a child process (a cluster: its primary and two workers),
 * waits for its result, and gives the section. The child is adopted by the harness's clean-up, so
 * Ctrl-C or a harness exit stops it; past the deadline it is killed (its workers exit with it).
 */
export async function runIpcBench (signal: AbortSignal, log: (line: string) => void): Promise<IpcBenchOutcome> {
  const file = fileURLToPath(new URL('./round-trip.js', import.meta.url))
  log(`[ipc round trip] ${DEADLINE_SECONDS} s at most`)
  signal.throwIfAborted()
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.NODE_ENV
  const child = fork(file, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  adoptChild(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  try {
    const result = await new Promise<IpcBenchResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no result within ${DEADLINE_SECONDS} s`)), DEADLINE_SECONDS * 1000)
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      child.on('message', (message: unknown) => {
        const m = message as Partial<IpcResultMessage> | null
        if (m?.type === 'ipc-result' && m.result !== undefined) resolve(m.result)
      })
      child.once('exit', (code, sig) => reject(new Error(`the benchmark exited before its result (${sig ?? `code ${code}`})`)))
      child.once('error', reject)
      exited.finally(() => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      })
    })
    log(`[ipc round trip] ${ipcVerdict(result.series)}`)
    return { section: ipcSection({ result }), failed: false }
  } catch (err) {
    if (signal.aborted) throw err
    const message = err instanceof Error ? err.message : String(err)
    log(`[ipc round trip] failed: ${message}`)
    return { section: ipcSection({ error: message }), failed: true }
  } finally {
    await stop()
  }
}

/** Appends the section to the RESULTS.md just written. */
export async function appendIpcSection (file: string, outcome: IpcBenchOutcome): Promise<void> {
  await appendFile(file, `\n${outcome.section}\n`)
}
