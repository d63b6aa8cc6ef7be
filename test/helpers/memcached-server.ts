/**
 * A throwaway `memcached` for fault tests ("Memcached goes away and comes back") and for what must
 * never run on the shared server (`flush_all`): started on a free loopback port (no UDP), as the
 * system user `memcache` when this process is root (memcached refuses root), stopped by the test's
 * teardown. It only ever signals the process it spawned.
 *
 * ```ts
 * const memcached = await startMemcachedServer(t)
 * if (memcached === null) return // no memcached: skipped (or failed with CI=true)
 * const store = new MemcachedStore({ servers: memcached.servers })
 * memcached.kill('SIGSTOP')       // it hangs
 * await memcached.restart()       // and comes back empty, on the same port
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import memjs from 'memjs'
import { freePort, type RedisServerTest } from './redis-server.js'
import { stopAll } from './server-process.js'
import { probeService, unavailable } from './services.js'

/** Options of `startMemcachedServer()`. */
export interface MemcachedServerOptions {
  /**
   * Port to listen on.
   * @default a free loopback port
   */
  port?: number
  /**
   * System user memcached runs as when this process is root.
   * @default 'memcache'
   */
  user?: string
  /**
   * Milliseconds to wait for the answer to `version` after each start.
   * @default 10000
   */
  startTimeout?: number
  /**
   * Environment the skip/fail policy reads `CI` from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
}

/** A running throwaway memcached. */
export interface MemcachedServerHandle {
  /** `memcached://127.0.0.1:<port>` */
  readonly url: string
  /** `127.0.0.1:<port>`, memjs's format. */
  readonly servers: string
  readonly port: number
  /** PID of the current process (changes on `restart()`). */
  readonly pid: number
  /** SIGTERM (and SIGCONT, so a stopped process can act on it), SIGKILL after 5 s; resolves once it exited. Idempotent. */
  stop: () => Promise<void>
  /**
   * Sends a signal: `SIGKILL` (crash), `SIGSTOP` (hang), `SIGCONT`. `SIGSTOP` returns once every
   * thread is stopped (until then a worker thread may still answer); `false` if that took over 2 s.
   */
  kill: (signal?: NodeJS.Signals) => boolean
  /** Stops it (if running), then starts a new one on the same port and waits until it answers. */
  restart: () => Promise<void>
}

const HOST = '127.0.0.1'

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

async function terminate (child: ChildProcess): Promise<void> {
  if (hasExited(child)) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  child.kill('SIGCONT')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** Spawns memcached and waits until it answers `version`; rejects with the spawn error (e.g. ENOENT). */
async function launch (port: number, user: string, startTimeout: number): Promise<ChildProcess> {
  const args = ['-l', HOST, '-p', String(port), '-U', '0', ...(process.getuid?.() === 0 ? ['-u', user] : [])]
  const child = spawn('memcached', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-2000) })
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  const url = `memcached://${HOST}:${port}`
  const deadline = Date.now() + startTimeout
  for (;;) {
    if (hasExited(child)) throw new Error(`memcached exited (code ${child.exitCode}, signal ${child.signalCode}) before answering at ${url}: ${output.trim()}`)
    const probe = await probeService('memcached', url, { timeout: 500 })
    if (probe.ok) return child
    if (Date.now() >= deadline) {
      await terminate(child)
      throw new Error(`memcached did not answer at ${url} within ${startTimeout} ms (${probe.reason})`)
    }
    await sleep(25)
  }
}

/**
 * Starts a throwaway memcached and registers `t.teardown` to stop it. When the command cannot be
 * run (not installed), it applies the policy of `requireService()`: fails with `CI=true`, else
 * records a skip; either way it returns `null` and the caller must stop.
 */
export async function startMemcachedServer (t: RedisServerTest, options: MemcachedServerOptions = {}): Promise<MemcachedServerHandle | null> {
  const port = options.port ?? await freePort()
  const user = options.user ?? 'memcache'
  const startTimeout = options.startTimeout ?? 10_000
  let child: ChildProcess
  try {
    child = await launch(port, user, startTimeout)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall === undefined) throw err
    return unavailable(t, `cannot run memcached: ${(err as Error).message}`, options.env)
  }
  const handle: MemcachedServerHandle = {
    url: `memcached://${HOST}:${port}`,
    servers: `${HOST}:${port}`,
    port,
    get pid () { return child.pid as number },
    stop: () => terminate(child),
    kill: (signal = 'SIGKILL') => signal === 'SIGSTOP' ? stopAll([child.pid as number]) : child.kill(signal),
    restart: async () => {
      await terminate(child)
      child = await launch(port, user, startTimeout)
    }
  }
  t.teardown(() => handle.stop())
  return handle
}

// The small tools the Memcached tests share.

/** A key prefix no other test uses. */
export const uniqueMemcachedPrefix = (label: string): string =>
  `fleet-test:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`

/** A memjs client of `servers` (its logs dropped), closed when the test ends. */
export function memjsClient (t: RedisServerTest, servers: string, options: memjs.ClientOptions & memjs.ServerOptions = {}): memjs.Client {
  const client = memjs.Client.create(servers, { logger: { log: () => {} }, ...options })
  t.teardown(() => { client.close() })
  return client
}

/** `client` behind a proxy that records the name of each command the store sends through it. */
export function countingMemjs<C extends object> (client: C): { client: C, commands: string[] } {
  const commands: string[] = []
  const counted = new Proxy(client, {
    get (target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      if (!['get', 'set', 'touch', 'delete', 'flush'].includes(String(prop))) return value.bind(target)
      return (...args: unknown[]) => {
        commands.push(String(prop))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
  })
  return { client: counted, commands }
}

/**
 * Sends one line of Memcached's text protocol and resolves to the first line of the answer, e.g.
 * `mg <key> t f` → `HD t3456000 f2` (its remaining lifetime in seconds and its flags) or `EN` (none).
 */
export async function textCommand (port: number, line: string, host = HOST): Promise<string> {
  return await new Promise((resolve, reject) => {
    let received = ''
    const socket = net.connect(port, host, () => socket.write(`${line}\r\n`))
    socket.setTimeout(2000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(line)}`)))
    socket.on('data', (chunk) => {
      received += chunk.toString()
      const end = received.indexOf('\r\n')
      if (end === -1) return
      socket.end()
      resolve(received.slice(0, end))
    })
    socket.on('error', reject)
  })
}
