import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { ToolMissingError } from './load.js'
import { commandsPerRequest, parseCommandStats } from './redis-info.js'
import type { LoadMetric } from './scenario.js'
import { adoptChild } from './server-process.js'

const HOST = '127.0.0.1'

/** A throwaway `redis-server` started by the harness. */
export interface RedisServer {
  port: number
  /** `redis://127.0.0.1:<port>` */
  url: string
  pid: number
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop: (graceMs?: number) => Promise<void>
}

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, HOST)
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** Whether `PING` on `port` answers `+PONG` within `timeoutMs`. */
function ping (port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

async function launch (command: string, port: number, timeoutMs: number): Promise<RedisServer> {
  // no persistence, in the foreground; loopback only
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no']
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-2000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new ToolMissingError(command, 'apt-get install redis-server') : err)
    })
  })
  adoptChild(child)
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (graceMs = 3000): Promise<void> => {
    if (exited(child)) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await gone
    clearTimeout(timer)
  }
  const deadline = Date.now() + timeoutMs
  while (!await ping(port, 500)) {
    if (exited(child) || Date.now() >= deadline) {
      await stop(500)
      throw new Error(`${command} on port ${port} did not answer PING: ${output.trim().split('\n').pop() ?? ''}`)
    }
    await sleep(20)
  }
  return { port, url: `redis://${HOST}:${port}`, pid: child.pid!, stop }
}

/**
 * Starts a throwaway `redis-server` on a free loopback port, without persistence, and waits until it
 * answers `PING` (a second free port is tried when the first was taken in between). It is stopped
 * with the harness's other children if the harness exits first. Rejects with a `ToolMissingError`
 * when `command` is not installed.
 */
export async function startRedisServer (command = 'redis-server', timeoutMs = 10_000): Promise<RedisServer> {
  try {
    return await launch(command, await freePort(), timeoutMs)
  } catch (err) {
    if (err instanceof ToolMissingError) throw err
    return await launch(command, await freePort(), timeoutMs)
  }
}

/**
 * A metric for the loads of servers that share the Redis at `url` (and nothing else does): the
 * commands Redis ran during a load (from `INFO commandstats`, its own `INFO` left out, `MULTI` and
 * `EXEC` counted) per request answered or failed. `close()` ends its connection.
 */
export function redisCommandsMetric (url: string, label = 'Redis commands/request'): LoadMetric & { close: () => Promise<void> } {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  const snapshot = async (): Promise<Record<string, number>> => parseCommandStats(await client.info('commandstats'))
  return {
    label,
    start: async () => {
      const before = await snapshot()
      return async (result) => commandsPerRequest(before, await snapshot(), result.requests + result.failures)
    },
    close: async () => {
      await client.quit().catch(() => client.disconnect())
    }
  }
}
