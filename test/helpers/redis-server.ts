/**
 * A throwaway `redis-server` for fault tests ("Redis goes away and comes
 * back"): started on a free loopback port with no persistence, stopped by the
 * test's teardown. It only ever signals the process it spawned.
 *
 * ```ts
 * t.test('store survives a Redis restart', async t => {
 *   const redis = await startRedisServer(t)
 *   if (redis === null) return // no redis-server: skipped (or failed with CI=true)
 *   const store = new RedisStore({ url: redis.url })
 *   redis.kill('SIGKILL')       // Redis goes away
 *   await redis.restart()       // and comes back on the same port
 * })
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { probeService, unavailable, type PolicyTest } from './services.js'

/** The part of a tap `Test` the helper needs (a tap `Test` fits). */
export interface RedisServerTest extends PolicyTest {
  /** Registers cleanup to run when the test ends. */
  teardown: (fn: () => unknown) => unknown
}

/** Options of `startRedisServer()`. */
export interface RedisServerOptions {
  /**
   * Executable to run.
   * @default 'redis-server'
   */
  command?: string
  /**
   * Port to listen on.
   * @default a free loopback port
   */
  port?: number
  /**
   * Milliseconds to wait for the first `PONG` after each start.
   * @default 10000
   */
  startTimeout?: number
  /**
   * Milliseconds `stop()` waits after SIGTERM before it sends SIGKILL.
   * @default 5000
   */
  stopTimeout?: number
  /**
   * Environment the skip/fail policy reads `CI` from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
}

/** A running throwaway Redis server. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Always `127.0.0.1`. */
  readonly host: string
  /** The port; it stays the same across `restart()`. */
  readonly port: number
  /** PID of the current process (changes on `restart()`). */
  readonly pid: number
  /** Whether the current process is still alive. */
  readonly running: boolean
  /** SIGTERM (then SIGKILL after `stopTimeout`); resolves once it exited. Idempotent. */
  stop: () => Promise<void>
  /** Sends a signal to the current process, e.g. `SIGKILL` (crash) or `SIGSTOP` (hang). */
  kill: (signal?: NodeJS.Signals) => boolean
  /** Stops the server (if running), then starts a new one on the same port and waits for `PONG`. */
  restart: () => Promise<void>
}

const HOST = '127.0.0.1'
const OUTPUT_TAIL = 2000

/** Finds a free loopback TCP port (listen on port 0, read it, close). */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  server.listen(0, HOST)
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

function hasExited (child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** The tail of a process's output, complete once `closed` resolves. */
interface Output {
  text: string
  closed: Promise<void>
}

/** Spawns the command; rejects with the spawn error (e.g. ENOENT). */
function spawnServer (command: string, port: number, output: Output): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no']
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const keep = (chunk: Buffer): void => { output.text = (output.text + chunk.toString()).slice(-OUTPUT_TAIL) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  output.closed = new Promise(resolve => child.once('close', () => resolve()))
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child))
    child.once('error', reject)
  })
}

/** Polls PING until `PONG`; throws when the process exits or time runs out. */
async function waitForPong (child: ChildProcess, url: string, timeout: number, output: Output): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (hasExited(child)) {
      await output.closed
      throw new Error(`redis-server exited (code ${child.exitCode}, signal ${child.signalCode}) before answering PING at ${url}: ${output.text.trim()}`)
    }
    const probe = await probeService('redis', url, { timeout: 500 })
    if (probe.ok) return
    if (Date.now() >= deadline) {
      throw new Error(`redis-server did not answer PING at ${url} within ${timeout} ms (${probe.reason})`)
    }
    await sleep(25)
  }
}

/** SIGTERM (and SIGCONT, so a stopped process can act on it), SIGKILL after `graceMs`. */
async function terminate (child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  child.kill('SIGCONT')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Spawns and waits for `PONG`; kills what it spawned when that fails. */
async function launch (command: string, port: number, options: { startTimeout: number, stopTimeout: number }): Promise<ChildProcess> {
  const output: Output = { text: '', closed: Promise.resolve() }
  const child = await spawnServer(command, port, output)
  try {
    await waitForPong(child, `redis://${HOST}:${port}`, options.startTimeout, output)
  } catch (err) {
    await terminate(child, options.stopTimeout)
    throw err
  }
  return child
}

/**
 * Starts a throwaway `redis-server` on a free loopback port (no persistence,
 * not daemonized), waits until it answers PING and registers `t.teardown` to
 * stop it. When the command cannot be run (not installed), it applies the
 * policy of `requireService()`: fails with `CI=true`, else records a skip;
 * either way it returns `null` and the caller must stop. A server that runs
 * but never answers PING is an error (the promise rejects).
 */
export async function startRedisServer (t: RedisServerTest, options: RedisServerOptions = {}): Promise<RedisServerHandle | null> {
  const command = options.command ?? 'redis-server'
  const timing = { startTimeout: options.startTimeout ?? 10_000, stopTimeout: options.stopTimeout ?? 5000 }
  const port = options.port ?? await freePort()
  let child: ChildProcess
  try {
    child = await launch(command, port, timing)
  } catch (err) {
    const error = err as NodeJS.ErrnoException
    if (error.syscall === undefined) throw err
    return unavailable(t, `cannot run ${command}: ${error.message}`, options.env)
  }
  const handle: RedisServerHandle = {
    url: `redis://${HOST}:${port}`,
    host: HOST,
    port,
    get pid () { return child.pid as number },
    get running () { return !hasExited(child) },
    stop: () => terminate(child, timing.stopTimeout),
    kill: (signal = 'SIGKILL') => child.kill(signal),
    restart: async () => {
      await terminate(child, timing.stopTimeout)
      child = await launch(command, port, timing)
    }
  }
  t.teardown(() => handle.stop())
  return handle
}
