import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'

export type LogLine = Record<string, unknown>

/** A process started by a test, its standard output read as JSON lines. */
export interface Spawned {
  child: ChildProcess
  lines: LogLine[]
  /** Resolves with the first line (already seen or to come) that matches; rejects after `timeout` ms. */
  waitFor: (match: (line: LogLine) => boolean, what: string, timeout?: number) => Promise<LogLine>
  /** Resolves once `count` lines match. */
  waitForCount: (match: (line: LogLine) => boolean, count: number, what: string, timeout?: number) => Promise<LogLine[]>
  exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** A matcher of log lines by their `msg`. */
export const msg = (text: string) => (line: LogLine): boolean => line.msg === text

/**
 * Runs a TypeScript entry point with this test's loader (tap's execArgv), JSON lines on stdout
 * collected, stderr inherited; killed (SIGKILL) at teardown if still running.
 */
export function spawnLogged (t: { teardown: (fn: () => unknown) => void }, file: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [...process.execArgv, file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines: LogLine[] = []
  const waiters = new Set<() => void>()
  let buffer = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop() as string
    for (const part of parts) {
      try { lines.push(JSON.parse(part)) } catch { lines.push({ text: part }) }
    }
    for (const w of [...waiters]) w()
  })
  const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exit
  })
  const waitForCount: Spawned['waitForCount'] = async (match, count, what, timeout = 30_000) => await new Promise((resolve, reject) => {
    const check = (): void => {
      const found = lines.filter(match)
      if (found.length >= count) { done(); resolve(found) }
    }
    const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}; log: ${JSON.stringify(lines)}`)) }, timeout)
    const done = (): void => { clearTimeout(timer); waiters.delete(check) }
    waiters.add(check)
    check()
  })
  const waitFor: Spawned['waitFor'] = async (match, what, timeout) => (await waitForCount(match, 1, what, timeout))[0] as LogLine
  return { child, lines, waitFor, waitForCount, exit }
}
