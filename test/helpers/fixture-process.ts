import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

/** One line a fixture printed: its JSON, or `{ text }` when it was not JSON. */
export type LogLine = Record<string, any>

/** A fixture process started by a test, and what it printed on standard output. */
export interface FixtureProcess {
  child: ChildProcess
  pid: number
  lines: LogLine[]
  /** Resolves with the first line (already printed or to come) that matches; rejects after `timeout` ms. */
  waitFor: (match: (line: LogLine) => boolean, what: string, timeout?: number) => Promise<LogLine>
  /** Resolves with the first `count` lines that match, once there are that many. */
  waitForCount: (match: (line: LogLine) => boolean, count: number, what: string, timeout?: number) => Promise<LogLine[]>
  /** Writes one line of JSON to the fixture's standard input. */
  command: (message: Record<string, unknown>) => void
  /** The exit code, or the signal's name. */
  exit: Promise<number | string>
  /** Processes the fixture started (its cluster workers) that the test must end too if they outlive it. */
  alsoKill: (pid: number) => void
}

/** Whether process `pid` is still there (a zombie of another parent counts as there until reaped). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Waits until process `pid` is gone, polling every 50 ms; `false` if it is still there after `timeout` ms. */
export async function waitGone (pid: number, timeout = 30_000): Promise<boolean> {
  for (let waited = 0; waited < timeout; waited += 50) {
    if (!isAlive(pid)) return true
    await sleep(50)
  }
  return !isAlive(pid)
}

/**
 * Runs a TypeScript fixture with this test's flags (tap's loader and coverage hooks, which
 * `cluster.fork` passes on to workers), standard output read as JSON lines, standard error passed
 * through. When the test ends, the fixture and the processes given to `alsoKill` are killed by PID
 * if still running.
 */
export function startFixture (t: { teardown: (fn: () => unknown) => unknown }, path: string, env: Record<string, string | undefined> = {}): FixtureProcess {
  const child = spawn(process.execPath, [...process.execArgv, path], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  const lines: LogLine[] = []
  const waiters = new Set<() => void>()
  const others = new Set<number>()
  let buffer = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop() as string
    for (const part of parts) {
      if (part === '') continue
      try { lines.push(JSON.parse(part)) } catch { lines.push({ text: part }) }
    }
    for (const w of waiters) w()
  })
  // the fixture may be gone when a command is written
  child.stdin?.on('error', () => {})
  const exit = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exit
    for (const pid of others) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
  const waitForCount: FixtureProcess['waitForCount'] = async (match, count, what, timeout = 30_000) => await new Promise((resolve, reject) => {
    const check = (): void => {
      const found = lines.filter(match)
      if (found.length >= count) { done(); resolve(found.slice(0, count)) }
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`timed out waiting for ${what}; output: ${JSON.stringify(lines)}`))
    }, timeout)
    const done = (): void => { clearTimeout(timer); waiters.delete(check) }
    waiters.add(check)
    check()
  })
  return {
    child,
    pid: child.pid as number,
    lines,
    waitFor: async (match, what, timeout) => (await waitForCount(match, 1, what, timeout))[0] as LogLine,
    waitForCount,
    command: (message) => { child.stdin?.write(JSON.stringify(message) + '\n') },
    exit,
    alsoKill: (pid) => { others.add(pid) }
  }
}

/** Matches the lines whose `msg` is `text` (and whose other fields equal those of `fields`). */
export const msg = (text: string, fields: Record<string, unknown> = {}) => (line: LogLine): boolean =>
  line.msg === text && Object.entries(fields).every(([key, value]) => line[key] === value)
