import { fork, type ChildProcess } from 'node:child_process'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ListeningMessage } from './serve.js'
import type { ServerEntry } from './scenario.js'

/** A bench server running in its own child process. */
export interface ServerProcess {
  label: string
  pid: number
  port: number
  /** The process whose tree serves the load (its CPU is the server's): `pid`, or the one the child reported. */
  servingPid: number
  /** Whether the child is still running. */
  alive: () => boolean
  /** Stops the child (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. */
  stop: (graceMs?: number) => Promise<void>
}

/** Every child started by `startServer()` (or adopted) and not yet stopped, for the clean-up on exit. */
const running = new Set<ChildProcess>()

/** The server module as a file path; strings are relative to `serversDir`. */
export function serverModulePath (entry: ServerEntry, serversDir: URL): string {
  const url = entry.module instanceof URL ? entry.module : new URL(entry.module, serversDir)
  return fileURLToPath(url)
}

/**
 * Forks `node <server module>` with `PORT=0` and waits for its `{ type: 'listening', port, pid? }` IPC
 * message (`serve()` sends it). Fails when the child exits or stays silent for `timeoutMs`.
 * `NODE_ENV` is removed from the child's environment: `serverOptions()` refuses a self-signed
 * certificate in production mode, and a bench server always runs on the development certificate.
 * The child runs in a session of its own (`detached`).
 */
export function startServer (label: string, entry: ServerEntry, serversDir: URL, timeoutMs = 30_000): Promise<ServerProcess> {
  const file = serverModulePath(entry, serversDir)
  const env: NodeJS.ProcessEnv = { ...process.env, ...entry.env, PORT: '0' }
  delete env.NODE_ENV
  if (entry.env?.NODE_ENV !== undefined) env.NODE_ENV = entry.env.NODE_ENV
  // detached: a session of its own, so Linux's autogroup scheduling gives the server its own share
  // of the CPU against the load generator, whatever starts it. PM2's daemon detaches itself: in the
  // harness's session (with autocannon and h2load), the other servers got a different share than
  // PM2 and lost up to 10 % against it on HTTP/1.1. A server exits on its own when the harness goes.
  const child = fork(file, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true })
  running.add(child)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child)
      resolve()
    })
  })

  const alive = (): boolean => child.exitCode === null && child.signalCode === null
  const stop = async (graceMs = 3000): Promise<void> => {
    if (!alive()) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }

  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => {
      cleanup()
      stop(500).then(() => reject(new Error(`${label} server (${relative(process.cwd(), file)}) ${reason}`)), reject)
    }
    const onMessage = (msg: unknown): void => {
      const m = msg as Partial<ListeningMessage> | null
      if (m?.type !== 'listening' || typeof m.port !== 'number') return
      cleanup()
      resolve({ label, pid: child.pid!, port: m.port, servingPid: typeof m.pid === 'number' ? m.pid : child.pid!, alive, stop })
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`exited before listening (${signal ?? `code ${code}`})`)
    const onError = (err: Error): void => fail(`could not start: ${err.message}`)
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs / 1000} s`), timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      child.off('error', onError)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.once('error', onError)
  })
}

/**
 * Adds a child the harness started some other way (a backend a scenario's `setup()` started) to the
 * clean-up on exit: `stopAllServers()` and `killAllServersSync()` stop it too if it still runs.
 */
export function adoptChild (child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  running.add(child)
  child.once('exit', () => running.delete(child))
}

/** Stops every server child still running (SIGTERM, SIGKILL after `graceMs`). */
export async function stopAllServers (graceMs = 3000): Promise<void> {
  await Promise.all([...running].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })))
}

/** Synchronous last resort for `process.on('exit')`: SIGKILL whatever is left. */
export function killAllServersSync (): void {
  for (const child of running) child.kill('SIGKILL')
}
