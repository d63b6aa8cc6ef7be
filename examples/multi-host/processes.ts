import { spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** One JSON line a child printed (`{ msg }` holding the line when it was not JSON). */
export type ChildLine = Record<string, unknown>

/** A process the launcher started, ended by its pid only. */
export class ManagedProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>
  #lines: ChildLine[] = []
  #waiters = new Set<() => void>()
  #output = ''

  private constructor (name: string, child: ChildProcess, onLine: (line: ChildLine) => void) {
    this.name = name
    this.child = child
    this.pid = child.pid as number
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((code ?? signal) as number | string)))
    let buffer = ''
    const read = (chunk: string): void => {
      this.#output = (this.#output + chunk).slice(-2000)
      buffer += chunk
      const parts = buffer.split('\n')
      buffer = parts.pop() as string
      for (const part of parts.filter((p) => p !== '')) {
        let line: ChildLine
        try { line = JSON.parse(part) } catch { line = { msg: part } }
        this.#lines.push(line)
        onLine(line)
      }
      for (const wake of this.#waiters) wake()
    }
    child.stdout?.setEncoding('utf8').on('data', read)
    child.stderr?.setEncoding('utf8').on('data', read)
  }

  /** Spawns `command`; rejects when it cannot be run (ENOENT, EACCES). */
  static async start (name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv, cwd?: string, onLine?: (line: ChildLine) => void } = {}): Promise<ManagedProcess> {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', (err) => reject(new Error(`cannot run ${command} (${name}): ${err.message}`)))
    })
    return new ManagedProcess(name, child, options.onLine ?? (() => {}))
  }

  /** The lines it printed so far. */
  get lines (): readonly ChildLine[] {
    return this.#lines
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** The last lines it printed, for error messages. */
  get output (): string {
    return this.#output.trim()
  }

  /** Resolves once `count` printed lines match; rejects when it exits first or after `timeout` ms. */
  async waitForLines (match: (line: ChildLine) => boolean, count: number, what: string, timeout: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        if (err === undefined) resolve()
        else reject(err)
      }
      const check = (): void => { if (this.#lines.filter(match).length >= count) done() }
      const timer = setTimeout(() => done(new Error(`${this.name}: no ${what} within ${timeout} ms: ${this.output}`)), timeout)
      this.#waiters.add(check)
      this.exited.then(() => done(new Error(`${this.name} exited before ${what}: ${this.output}`)))
      check()
    })
  }

  /** Resolves once `probe` succeeds; rejects when the process exits first or after `timeout` ms. */
  async waitUntil (probe: () => Promise<boolean>, what: string, timeout: number): Promise<void> {
    const deadline = Date.now() + timeout
    while (!(await probe())) {
      if (!this.running) throw new Error(`${this.name} exited before ${what}: ${this.output}`)
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeout} ms: ${this.output}`)
      await sleep(50)
    }
  }

  /** `signal` to its pid, then SIGKILL after `grace` ms; resolves once it is gone. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', grace = 10_000): Promise<void> {
    if (!this.running) return
    this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), grace)
    await this.exited
    clearTimeout(timer)
  }
}

/** Whether a TCP connection to host:port opens now. */
export async function accepts (host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ host, port })
    const finish = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => finish(false))
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
  })
}

/** Whether a Redis server answers PING at host:port (one round trip, no client library). */
export async function redisAnswers (host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    let received = ''
    const socket = connect({ host, port }, () => socket.write('PING\r\n'))
    const finish = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => finish(false))
    socket.on('data', (chunk) => {
      received += String(chunk)
      if (received.includes('\r\n')) finish(received.startsWith('+PONG'))
    })
    socket.once('error', () => finish(false))
  })
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
