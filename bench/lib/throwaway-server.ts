// A throwaway server for a scenario's `setup()` (redis-server, memcached): started by the harness on
// a free loopback port, in the foreground, stopped with the harness's other children if the harness
// exits first.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { ToolMissingError } from './load.js'
import { adoptChild } from './server-process.js'

export const HOST = '127.0.0.1'

/** A running throwaway server. */
export interface ThrowawayServer {
  port: number
  pid: number
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop: (graceMs?: number) => Promise<void>
}

/** How to run one kind of server. */
export interface ThrowawaySpec {
  command: string
  /** Its arguments for `port` (loopback only, nothing kept on disk). */
  args: (port: number) => string[]
  /** The Debian package that installs it, for the error when it is missing. */
  install: string
  /** A line the server answers once up (`PING`), and how its answer starts (`+PONG`). */
  probe: { send: string, expect: string }
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

/** Whether `probe.send` on `port` is answered with `probe.expect` within `timeoutMs`. */
function answers (port: number, probe: ThrowawaySpec['probe'], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write(`${probe.send}\r\n`))
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk
      if (reply.includes('\r\n')) done(reply.startsWith(probe.expect))
    })
  })
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

async function launch (spec: ThrowawaySpec, port: number, timeoutMs: number): Promise<ThrowawayServer> {
  const child = spawn(spec.command, spec.args(port), { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-2000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new ToolMissingError(spec.command, `apt-get install ${spec.install}`) : err)
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
  while (!await answers(port, spec.probe, 500)) {
    if (exited(child) || Date.now() >= deadline) {
      await stop(500)
      throw new Error(`${spec.command} on port ${port} did not answer ${spec.probe.send}: ${output.trim().split('\n').pop() ?? ''}`)
    }
    await sleep(20)
  }
  return { port, pid: child.pid!, stop }
}

/**
 * Starts the server of `spec` on a free loopback port and waits until it answers its probe (a
 * second free port is tried when the first was taken in between). Rejects with a
 * `ToolMissingError` when its command is not installed.
 */
export async function startThrowaway (spec: ThrowawaySpec, timeoutMs = 10_000): Promise<ThrowawayServer> {
  try {
    return await launch(spec, await freePort(), timeoutMs)
  } catch (err) {
    if (err instanceof ToolMissingError) throw err
    return await launch(spec, await freePort(), timeoutMs)
  }
}
