// The hostile-input suite's builders: the demo as `npm start` runs it (two workers, CORS for a
// browser app, the redirect listener), a logged-in "canary" user whose session must survive every
// hostile batch, and a raw-socket client that sends exact bytes.
import { mkdtemp, rm } from 'node:fs/promises'
import { connect as h2Connect } from 'node:http2'
import { connect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { h1Request, h2Request, type ClientResponse } from './clients.js'
import { msg, startFixture, type FixtureProcess } from './fixture-process.js'
import { freePort } from './ports.js'

const MAIN = fileURLToPath(new URL('../../examples/fleet-app/main.ts', import.meta.url))

/** The browser app's origin (CORS_ORIGINS), and a second allowed one on plain HTTP with a port. */
export const APP_ORIGIN = 'https://app.example.com'
export const DEV_ORIGIN = 'http://localhost:5173'
/** ALLOWED_HOSTS of the redirect listener. */
export const ALLOWED_HOSTS = ['fleet.example.com', 'localhost', '127.0.0.1', '::1']

type Teardown = { teardown: (fn: () => unknown) => unknown }

export interface HostileDemo {
  demo: FixtureProcess
  /** `https://127.0.0.1:<port>` */
  origin: string
  port: number
  redirectPort: number
  /** The two workers' pids once both were ready. */
  workerPids: number[]
}

/** Starts the demo with two workers, CORS for APP_ORIGIN and DEV_ORIGIN, the redirect on; killed in teardown. */
export async function startHostileDemo (t: Teardown): Promise<HostileDemo> {
  const cacheHome = await mkdtemp(join(tmpdir(), 'fleet-hostile-'))
  t.teardown(() => rm(cacheHome, { recursive: true, force: true }))
  const port = await freePort()
  const redirectPort = await freePort()
  const demo = startFixture(t, MAIN, {
    XDG_CACHE_HOME: cacheHome,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
    READY_TIMEOUT: '60000',
    WORKERS: '2',
    PORT: String(port),
    REDIRECT_PORT: String(redirectPort),
    CORS_ORIGINS: `${APP_ORIGIN},${DEV_ORIGIN}`,
    ALLOWED_HOSTS: ALLOWED_HOSTS.join(',')
  })
  const ready = await demo.waitForCount(msg('worker ready'), 2, 'two workers', 120_000)
  const workerPids = ready.map((l) => l.workerPid as number)
  for (const pid of workerPids) demo.alsoKill(pid)
  await demo.waitFor(msg('listening'), 'the primary')
  return { demo, origin: `https://127.0.0.1:${port}`, port, redirectPort, workerPids }
}

interface Me { user: string, views: number, pid: number }

/**
 * The session cookie (`name=value`) a response issued, or `undefined`; the empty cookie that
 * clears a bad one (`sessionId=; Max-Age=0`) issues nothing.
 */
export function sessionCookieOf (res: ClientResponse | RawResponse): string | undefined {
  const set = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('sessionId=') && !c.startsWith('sessionId=;'))
  return set?.split(';')[0]
}

/**
 * A logged-in user who keeps using the app while hostile requests go by: each check reads /me
 * over HTTP/2 and HTTP/1.1 (new connections, so both workers answer in turn) and expects the same
 * user with `views` up by exactly one per request.
 */
export class Canary {
  readonly user: string
  readonly cookie: string
  views = 0
  /** The workers that answered the canary. */
  readonly pids = new Set<number>()
  readonly #origin: string

  private constructor (origin: string, user: string, cookie: string) {
    this.#origin = origin
    this.user = user
    this.cookie = cookie
  }

  static async login (t: Test, origin: string, user = 'canary'): Promise<Canary> {
    const res = await h2Request(origin, '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) })
    t.equal(res.status, 200, 'the canary logs in')
    const cookie = sessionCookieOf(res)
    t.ok(cookie, 'and gets a session cookie')
    return new Canary(origin, user, cookie as string)
  }

  /** Reads /me four times (h2, h1, h2, h1): the same user, views counting on. */
  async check (t: Test, after: string): Promise<void> {
    for (const request of [h2Request, h1Request, h2Request, h1Request]) {
      const res = await request(this.#origin, '/me', { headers: { cookie: this.cookie } })
      const me = JSON.parse(res.body) as Me
      this.views++
      t.strictSame([res.status, me.user, me.views], [200, this.user, this.views], `canary intact after ${after} (${res.httpVersion})`)
      this.pids.add(me.pid)
    }
  }

  /** Counts a /me with the canary's cookie that a test made itself (outside `check`). */
  noteView (): void { this.views++ }
}

/** GET /me with `cookie` over both protocols: must be 401 (the canary is never reached by another cookie). */
export async function expectNoSession (t: Test, origin: string, cookie: string, what: string): Promise<void> {
  for (const request of [h2Request, h1Request]) {
    const res = await request(origin, '/me', { headers: { cookie } })
    t.strictSame([res.status, sessionCookieOf(res)], [401, undefined], `${what}: 401, no session issued (${res.httpVersion})`)
  }
}

/** The workers as the demo's GET /fleet lists them: pid, state, restarts. */
export async function fleetWorkers (origin: string): Promise<Array<{ pid: number, state: string, restarts: number }>> {
  const res = await h2Request(origin, '/fleet')
  const body = JSON.parse(res.body) as { workers: Array<{ pid: number, state: string, restarts: number }> }
  return body.workers.map(({ pid, state, restarts }) => ({ pid, state, restarts }))
}

/**
 * The end of every hostile file: the same two workers, never restarted, both answered the canary;
 * nothing logged at error level (Fastify logs every 5xx so); then a clean stop (SIGTERM, exit 0).
 */
export async function expectSameWorkers (t: Test, running: HostileDemo, canary: Canary): Promise<void> {
  const sorted = [...running.workerPids].sort((a, b) => a - b)
  const workers = (await fleetWorkers(running.origin)).sort((a, b) => a.pid - b.pid)
  t.strictSame(workers, sorted.map((pid) => ({ pid, state: 'ready', restarts: 0 })), 'the same two workers, no restart')
  t.strictSame([...canary.pids].sort((a, b) => a - b), sorted, 'both workers answered the canary')
  t.strictSame(running.demo.lines.filter((l) => typeof l.level === 'number' && l.level >= 50), [], 'nothing logged at error level')
  t.strictSame(running.demo.lines.filter(msg('worker died')), [], 'no worker died')
  running.demo.child.kill('SIGTERM')
  t.equal(await running.demo.exit, 0, 'a clean stop')
}

/**
 * `count` concurrent GET `path` streams on one HTTP/2 connection, headers from `headersOf(i)`;
 * resolves with their statuses in order, rejects after `timeout` ms.
 */
export async function h2Burst (origin: string, path: string, count: number, headersOf: (i: number) => Record<string, string>, timeout = 20_000): Promise<number[]> {
  const session = h2Connect(origin, { rejectUnauthorized: false })
  const timer = setTimeout(() => session.destroy(new Error(`the burst took over ${timeout} ms`)), timeout)
  try {
    return await Promise.all(Array.from({ length: count }, async (_, i) => await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':path': path, ...headersOf(i) })
      let status = 0
      stream.once('response', (headers) => { status = Number(headers[':status']) })
      stream.once('error', reject)
      stream.once('close', () => status === 0 ? reject(new Error(`stream ${i} closed without a response`)) : resolve(status))
      stream.resume()
      stream.end()
    })))
  } finally {
    clearTimeout(timer)
    if (!session.destroyed) await new Promise<void>((resolve) => { session.once('close', resolve); session.close() })
  }
}

/** A response read off a raw socket: status line, headers (lower-case names), whether it closed. */
export interface RawResponse {
  status: number
  statusLine: string
  headers: Record<string, string[]>
  body: string
}

/**
 * Sends `bytes` on a new TCP connection and reads the first response (headers, then
 * `content-length` bytes of body, or up to the close); rejects after `timeout` ms (a hang).
 * `tls`: over TLS with ALPN `http/1.1` (the demo's port), else plain TCP (the redirect port).
 */
export async function rawRequest (port: number, bytes: string | Buffer, { tls = false, timeout = 3000 } = {}): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const socket = tls
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : connect({ port, host: '127.0.0.1' })
    let data = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no complete response in ${timeout} ms to ${JSON.stringify(String(bytes).slice(0, 200))}; got ${JSON.stringify(data.toString('latin1'))}`))
    }, timeout)
    const finish = (res: RawResponse): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(res)
    }
    const parse = (closed: boolean): void => {
      const end = data.indexOf('\r\n\r\n')
      if (end === -1) {
        if (closed) { clearTimeout(timer); reject(new Error(`closed without a response: ${JSON.stringify(data.toString('latin1'))}`)) }
        return
      }
      const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
      const headers: Record<string, string[]> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).toLowerCase()
        ;(headers[name] ??= []).push(line.slice(colon + 1).trim())
      }
      const body = data.subarray(end + 4)
      const length = headers['content-length']?.[0]
      if (length !== undefined ? body.length >= Number(length) : closed) {
        finish({ status: Number(statusLine.split(' ')[1]), statusLine, headers, body: body.toString('latin1') })
      }
    }
    socket.on('data', (chunk: Buffer) => { data = Buffer.concat([data, chunk]); parse(false) })
    socket.once('end', () => parse(true))
    socket.once('error', (err) => { clearTimeout(timer); reject(err) })
    socket.write(bytes)
  })
}

/** Sends `bytes` on a new TCP connection and resolves with all the server wrote once it closes; rejects after `timeout` ms. */
export async function rawExchange (port: number, bytes: string, timeout = 3000): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let data = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server did not close in ${timeout} ms; got ${JSON.stringify(data)}`))
    }, timeout)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { data += chunk })
    socket.once('close', () => { clearTimeout(timer); resolve(data) })
    socket.once('error', (err) => { clearTimeout(timer); reject(err) })
    socket.write(bytes)
  })
}

/**
 * The demo and a logged-in canary for the subtests of one hostile suite; call it from the file's
 * `t.before` (the demo goes when the root test ends).
 */
export async function hostileSuite (t: Test): Promise<{ running: HostileDemo, canary: Canary }> {
  const running = await startHostileDemo(t)
  const canary = await Canary.login(t, running.origin)
  await canary.check(t, 'login')
  return { running, canary }
}
