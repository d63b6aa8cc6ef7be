/**
 * What the throwaway database servers of the fault tests share
 * (`postgres-server.ts`, `mariadb-server.ts`): the handle, the readiness
 * loop, and a shutdown that also ends what the server left behind.
 *
 * A server's processes are found through `/proc` (Linux): every process whose
 * working directory is the server's throwaway data directory. Both servers
 * `chdir` there, and a PostgreSQL backend keeps it after its postmaster was
 * killed (backends call `setsid()`, so a process group would not reach them).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RedisServerTest } from './redis-server.js'

/** The part of a tap `Test` the helpers need (a tap `Test` fits). */
export type ServerTest = RedisServerTest

/** Options every database server helper takes. */
export interface DatabaseServerOptions {
  /**
   * Port to listen on.
   * @default a free loopback port
   */
  port?: number
  /**
   * Milliseconds to wait, after each start, until a login and `SELECT 1` work.
   * @default 15000
   */
  startTimeout?: number
  /**
   * Milliseconds `stop()` waits after the shutdown signal before it sends SIGKILL.
   * @default 5000
   */
  stopTimeout?: number
  /**
   * Environment the skip/fail policy reads `CI` from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
}

/** A running throwaway database server. */
export interface DatabaseServerHandle {
  /** e.g. `postgres://postgres@127.0.0.1:<port>/test`: no password, database `test`. */
  readonly url: string
  /** Always `127.0.0.1`. */
  readonly host: string
  /** The port; it stays the same across `restart()`. */
  readonly port: number
  /** The data directory; it stays the same across `restart()` (and is removed at teardown). */
  readonly dataDir: string
  /** PID of the current server process (changes on `restart()`). */
  readonly pid: number
  /** Whether the current server process is still alive. */
  readonly running: boolean
  /**
   * The clean shutdown signal (then SIGKILL after `stopTimeout`); resolves once
   * the server and every process it left behind exited. Idempotent.
   */
  stop: () => Promise<void>
  /**
   * Sends a signal to the server process, e.g. `SIGKILL` (crash). `SIGSTOP`
   * (hang) and `SIGCONT` go to every process of the server, so connections
   * already open hang too; `kill('SIGSTOP')` returns once every thread of
   * them is stopped (`false` if that took over 2 s, or the server is gone).
   */
  kill: (signal?: NodeJS.Signals) => boolean
  /** Stops the server (if running), then starts it again on the same port and data directory and waits until logins work. */
  restart: () => Promise<void>
}

/** How to run one server, and how to tell it is ready. */
export interface ServerSpec {
  /** Name in messages, e.g. `postgres`. */
  name: string
  command: string
  args: string[]
  /** The user to run it as (`spawn`'s `uid` and `gid`). */
  account: Account
  url: string
  port: number
  dataDir: string
  /** Signal for a clean shutdown. */
  stopSignal: NodeJS.Signals
  startTimeout: number
  stopTimeout: number
  /** Why a login does not work yet, or `null` once it does. */
  loginProblem: () => Promise<string | null>
  /** Runs after every stop, once no process of the server is left. */
  afterStop: () => Promise<void>
}

/** A system user's ids. */
export interface Account {
  uid: number
  gid: number
}

export const HOST = '127.0.0.1'
const OUTPUT_TAIL = 2000

/** The uid and gid of a user of `/etc/passwd`, or `null` when there is none. */
export function systemUser (name: string, passwd = '/etc/passwd'): Account | null {
  const line = readFileSync(passwd, 'utf8').split('\n').find(entry => entry.startsWith(`${name}:`))
  if (line === undefined) return null
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** This process's own uid and gid (POSIX only, like the servers). */
function ownAccount (): Account {
  return { uid: (process.getuid as () => number)(), gid: (process.getgid as () => number)() }
}

/**
 * Who runs a server: the system user `user` when this process is root (the
 * servers refuse to run as root), else this process's own user; `null` when
 * root and there is no such user.
 */
export function serverAccount (user: string, self: Account = ownAccount()): Account | null {
  return self.uid === 0 ? systemUser(user) : self
}

/** The first `<dir>/<name>` that exists, else `name` alone (looked up in `PATH`). */
export function findCommand (name: string, dirs: string[]): string {
  return dirs.map(dir => join(dir, name)).find(path => existsSync(path)) ?? name
}

/** Whether an error is the one `spawn` gives for a command it cannot run (ENOENT, EACCES). */
export function isSpawnError (err: unknown): boolean {
  return /^spawn/.test(String((err as NodeJS.ErrnoException).syscall))
}

function hasExited (child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** The tail of a process's output, complete once `closed` resolves. */
interface Output {
  text: string
  closed: Promise<void>
}

/** Spawns the command as `account`, `input` (if any) on its stdin; rejects with the spawn error (e.g. ENOENT). */
function spawnLogged (command: string, args: string[], account: Account, input: string | undefined, output: Output): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'pipe', uid: account.uid, gid: account.gid })
  // An EPIPE on stdin (it exited without reading) is kept as output too.
  const keep = (chunk: Buffer | Error): void => { output.text = (output.text + String(chunk)).slice(-OUTPUT_TAIL) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.stdin.on('error', keep)
  output.closed = new Promise(resolve => child.once('close', () => resolve()))
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      child.stdin.end(input) // nothing written without input: stdin just closes
      resolve(child)
    })
    child.once('error', reject)
  })
}

/** Runs a command to its end as `account`; rejects with the spawn error, or when it exits with another code than 0. */
export async function run (command: string, args: string[], account: Account, input?: string): Promise<string> {
  const output: Output = { text: '', closed: Promise.resolve() }
  const child = await spawnLogged(command, args, account, input, output)
  await output.closed
  if (child.exitCode !== 0) {
    throw new Error(`${basename(command)} exited (code ${child.exitCode}, signal ${child.signalCode}): ${output.text.trim()}`)
  }
  return output.text
}

/** `read()`, or `fallback` when it throws: a process or thread that ended meanwhile. */
function orElse<T> (read: () => T, fallback: T): T {
  try {
    return read()
  } catch {
    return fallback
  }
}

/** PIDs of the processes whose working directory is `dir` (zombies have none). */
export function processesIn (dir: string, proc = '/proc'): number[] {
  const entries = existsSync(proc) ? readdirSync(proc) : []
  return entries.filter(entry => /^\d+$/.test(entry) && orElse(() => readlinkSync(join(proc, entry, 'cwd')), '') === dir).map(Number)
}

/** The states (`R`, `S`, `T`, ...) of a process's threads; none once it is gone. */
export function threadStates (pid: number, proc = '/proc'): string[] {
  const tasks = join(proc, String(pid), 'task')
  const ids = existsSync(tasks) ? readdirSync(tasks) : []
  // The state follows the command name in parentheses, which may hold anything.
  return ids.map(id => orElse(() => readFileSync(join(tasks, id, 'stat'), 'utf8').replace(/^.*\) /s, '').charAt(0), 'T'))
}

/** Sends `signal` to each PID, skipping the ones that are gone. */
export function signalEach (pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) orElse(() => process.kill(pid, signal), false)
}

/**
 * Sends SIGSTOP to each PID and blocks until all their threads are stopped
 * (or `timeout` ms passed): a multi-threaded process stops only once the
 * thread that took the signal got to run, and until then another thread may
 * still answer a query. Returns whether they all stopped.
 */
export function stopAll (pids: number[], timeout = 2000): boolean {
  signalEach(pids, 'SIGSTOP')
  const tick = new Int32Array(new SharedArrayBuffer(4))
  const deadline = Date.now() + timeout
  let stopped = false
  while (!stopped && Date.now() < deadline) {
    Atomics.wait(tick, 0, 0, 1)
    stopped = pids.every(pid => threadStates(pid).every(state => state === 'T'))
  }
  return stopped
}

/** Polls `loginProblem` until it returns `null`; throws when the process exits or time runs out. */
async function waitForLogin (spec: ServerSpec, child: ChildProcess, output: Output): Promise<void> {
  const deadline = Date.now() + spec.startTimeout
  for (;;) {
    if (hasExited(child)) {
      await Promise.race([output.closed, sleep(1000)]) // its output, unless a child it left holds the pipes
      throw new Error(`${spec.name} exited (code ${child.exitCode}, signal ${child.signalCode}) before accepting logins at ${spec.url}: ${output.text.trim()}`)
    }
    const problem = await spec.loginProblem()
    if (problem === null) return
    if (Date.now() >= deadline) {
      throw new Error(`${spec.name} did not accept logins at ${spec.url} within ${spec.startTimeout} ms (${problem})`)
    }
    await sleep(25)
  }
}

/**
 * The shutdown signal to the server (and SIGCONT to all its processes, so a
 * paused one can act on it), SIGKILL after `stopTimeout`; then SIGKILL to
 * whatever still runs in the data directory, until nothing does.
 */
export async function shutdown (spec: ServerSpec, child: ChildProcess): Promise<void> {
  if (!hasExited(child)) {
    const exited = once(child, 'exit')
    child.kill(spec.stopSignal)
    signalEach(processesIn(spec.dataDir), 'SIGCONT')
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.stopTimeout)
    await exited
    clearTimeout(timer)
  }
  for (let left = processesIn(spec.dataDir); left.length > 0; left = processesIn(spec.dataDir)) {
    signalEach(left, 'SIGKILL')
    await sleep(20)
  }
  await spec.afterStop()
}

/** Spawns the server and waits until logins work; shuts down what it spawned when that fails. */
export async function launch (spec: ServerSpec): Promise<ChildProcess> {
  const output: Output = { text: '', closed: Promise.resolve() }
  const child = await spawnLogged(spec.command, spec.args, spec.account, undefined, output)
  try {
    await waitForLogin(spec, child, output)
  } catch (err) {
    await shutdown(spec, child)
    throw err
  }
  return child
}

/** The handle of a launched server; its stop, restart and kill act on the current process. */
export function serverHandle (spec: ServerSpec, first: ChildProcess): DatabaseServerHandle {
  let child = first
  return {
    url: spec.url,
    host: HOST,
    port: spec.port,
    dataDir: spec.dataDir,
    get pid () { return child.pid as number },
    get running () { return !hasExited(child) },
    stop: () => shutdown(spec, child),
    kill: (signal = 'SIGKILL') => {
      if (signal === 'SIGSTOP') return child.kill(signal) && stopAll(processesIn(spec.dataDir))
      if (signal === 'SIGCONT') signalEach(processesIn(spec.dataDir), signal)
      return child.kill(signal)
    },
    restart: async () => {
      await shutdown(spec, child)
      child = await launch(spec)
    }
  }
}
