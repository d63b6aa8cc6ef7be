/**
 * Servers to drain, in this process (`./drain-app.ts`) or in another Node version, behind one
 * interface, and the checks that run against both: an idle HTTP/2 session on `app.close()`, requests in flight over
 * HTTP/2 and HTTP/1.1 keep-alive, requests the server has not read yet when the shutdown starts
 * (two-step against one-step), and h2load under load.
 *
 * The app is the same in both places (`./drain-app.ts`, `test/cluster/fixtures/drain-server.mjs`):
 * HTTP/2 + TLS with the HTTP/1.1 fallback, `fleetWorker`, and the routes
 * `GET /slow?ms&size` (`ms` of sleep, then `size` bytes), `GET /work?ms` (3 ms by default) and
 * `GET /block?ms&then` (blocks the event loop for `ms`, then starts `then` — `drain` or `one-step` —
 * and answers 50 ms later; requests sent meanwhile are still unread when the shutdown starts).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect as h2Connect } from 'node:http2'
import { Agent, request as httpsRequest } from 'node:https'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { DrainReport } from '../../plugins/cluster/drain.js'
import type { FleetWorkerOptions } from '../../plugins/cluster/worker-plugin.js'
import type { H2Observer } from './h2-observer.js'
import type { KeyPair } from './tls.js'

export type ShutdownCommand = 'drain' | 'close' | 'one-step'

/** A listening server with `fleetWorker`, and what a test does to it. */
export interface DrainTarget {
  /** `https://127.0.0.1:PORT`. */
  readonly origin: string
  /** The server's `process.version`. */
  readonly node: string
  /** `fastify.fleet.drain()`, `app.close()`, or the one-step shutdown (`session.close()` on every session, then `server.close()`). */
  run: (command: ShutdownCommand) => Promise<{ report?: DrainReport, sessions?: number, ms: number }>
  /** Requests to `/slow` and `/block` that reached the routes, and HTTP/2 sessions that connected, so far. */
  counts: () => { requests: number, sessions: number }
  /** Resolves once `count` requests to `/slow` and `/block` have reached the routes, in all. */
  requests: (count: number) => Promise<void>
  /** Resolves once `count` HTTP/2 sessions have connected, in all. */
  sessions: (count: number) => Promise<void>
}

interface Counters {
  requests: number
  sessions: number
  changed: () => void
}

export const counters = (): Counters & { until: (key: 'requests' | 'sessions', count: number) => Promise<void> } => {
  const waiting = new Set<() => void>()
  const c = {
    requests: 0,
    sessions: 0,
    changed: () => { for (const check of waiting) check() },
    until: async (key: 'requests' | 'sessions', count: number): Promise<void> => {
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (c[key] < count) return
          waiting.delete(check)
          resolve()
        }
        waiting.add(check)
        check()
      })
    }
  }
  return c
}

/**
 * The app in a child process run by `node` (an executable), loading `fleetWorker` from
 * `moduleUrl` (see `./transpiled.ts`). The child is killed when the test ends if it still runs.
 */
export async function childTarget (
  t: { teardown: (fn: () => unknown) => unknown },
  node: string,
  moduleUrl: string,
  pair: KeyPair,
  options: FleetWorkerOptions = {}
): Promise<DrainTarget & { child: ChildProcess }> {
  const child = spawn(node, [new URL('../cluster/fixtures/drain-server.mjs', import.meta.url).pathname], {
    env: {
      ...process.env,
      FLEET_CLUSTER_MODULE: moduleUrl,
      TLS_KEY: pair.key,
      TLS_CERT: pair.cert,
      ...(options.shutdownTimeout === undefined ? {} : { SHUTDOWN_TIMEOUT: String(options.shutdownTimeout) }),
      ...(options.noticeWait === undefined ? {} : { NOTICE_WAIT: String(options.noticeWait) })
    },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  })
  const count = counters()
  const answers = new Map<number, (message: Record<string, unknown>) => void>()
  let listening: (message: { port: number, node: string }) => void = () => {}
  const ready = new Promise<{ port: number, node: string }>((resolve, reject) => {
    listening = resolve
    child.once('exit', (code) => reject(new Error(`the drain server exited with ${code} before listening`)))
  })
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>
    if (message.event === 'listening') listening(message as { port: number, node: string })
    else if (message.event === 'session') count.sessions++
    else if (message.event === 'request') count.requests++
    else answers.get(message.id as number)?.(message)
    count.changed()
  })
  const { port, node: version } = await ready
  let nextId = 1
  return {
    child,
    origin: `https://127.0.0.1:${port}`,
    node: version,
    counts: () => ({ requests: count.requests, sessions: count.sessions }),
    run: async (command) => {
      const id = nextId++
      const answer = new Promise<Record<string, unknown>>((resolve) => answers.set(id, resolve))
      child.stdin?.write(JSON.stringify({ id, cmd: command }) + '\n')
      const message = await answer
      if (typeof message.error === 'string') throw new Error(message.error)
      return message as { report?: DrainReport, sessions?: number, ms: number }
    },
    requests: async (n) => await count.until('requests', n),
    sessions: async (n) => await count.until('sessions', n)
  }
}

type Check = Pick<Test, 'ok' | 'equal' | 'strictSame' | 'comment'>

const NOTICE = { lastStreamId: 2 ** 31 - 1, errorCode: 0 }

/** Consecutive duplicates removed: Node sends the final GOAWAY twice (from close() and when the session ends). */
export const distinct = <T>(items: T[]): T[] => items.filter((item, i) => i === 0 || JSON.stringify(item) !== JSON.stringify(items[i - 1]))

/**
 * `app.close()` with an idle HTTP/2 session: resolves well before http2SessionTimeout (72 s); the
 * client sees a PING (the idle session's round trip), the notice (last stream id 2^31-1), then the
 * final GOAWAY (last stream id 0: nothing was processed).
 */
export async function checkIdleClose (t: Check, target: DrainTarget, connect: (origin: string) => Promise<{ goaways: Array<{ lastStreamId: number, errorCode: number }>, connectionFrames: string[], closed: Promise<void> }>): Promise<void> {
  const observer = await connect(target.origin)
  const { ms } = await target.run('close')
  t.ok(ms < 3000, `app.close() resolved in ${Math.round(ms)} ms`)
  await observer.closed
  t.strictSame(distinct(observer.goaways), [NOTICE, { lastStreamId: 0, errorCode: 0 }], 'the notice, then the final GOAWAY')
  t.strictSame(distinct(observer.connectionFrames.filter((type) => type === 'PING' || type === 'GOAWAY')), ['PING', 'GOAWAY'], 'a PING round trip before the GOAWAYs (the session was idle)')
}

/** What a request over HTTP/1.1 keep-alive got, and its connection. */
interface H1Result {
  status: number
  connection: string | undefined
  length: number
  socketClosed: Promise<void>
}

function h1Get (origin: string, path: string, agent: Agent): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, origin), { agent }, (res) => {
      let length = 0
      const socket = res.socket
      const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
      res.on('data', (chunk: Buffer) => { length += chunk.length })
      res.once('end', () => resolve({ status: res.statusCode as number, connection: res.headers.connection, length, socketClosed }))
    })
    req.once('error', reject)
    req.end()
  })
}

/** An HTTP/1.1 keep-alive agent (one connection, ALPN `http/1.1`, certificate not checked). */
export const keepAliveAgent = (): Agent => new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false, ...{ ALPNProtocols: ['http/1.1'] } })

/**
 * Requests in flight when the drain starts (HTTP/2, and HTTP/1.1 keep-alive) complete with 200 and
 * their whole body; the HTTP/1.1 one carries `Connection: close` and its connection closes; the
 * HTTP/2 client sees the notice, then the final GOAWAY with its stream's id.
 */
export async function checkInFlight (t: Check, target: DrainTarget): Promise<void> {
  const client = h2Connect(target.origin, { rejectUnauthorized: false })
  const goaways: Array<{ lastStreamId: number, errorCode: number }> = []
  client.on('goaway', (errorCode, lastStreamId) => goaways.push({ lastStreamId, errorCode }))
  client.on('error', () => {})
  const h2 = new Promise<{ status: number, length: number }>((resolve, reject) => {
    const stream = client.request({ ':path': '/slow?ms=700&size=200000' })
    let status = 0
    let length = 0
    stream.once('response', (headers) => { status = Number(headers[':status']) })
    stream.on('data', (chunk: Buffer) => { length += chunk.length })
    stream.once('end', () => resolve({ status, length }))
    stream.once('error', reject)
  })
  const agent = keepAliveAgent()
  const before = target.counts().requests
  const h1 = h1Get(target.origin, '/slow?ms=700&size=100000', agent)
  await target.requests(before + 2)
  const drained = target.run('drain')
  const [r2, r1] = await Promise.all([h2, h1])
  t.strictSame(r2, { status: 200, length: 200000 }, 'HTTP/2: 200 and the whole body')
  t.strictSame({ status: r1.status, length: r1.length, connection: r1.connection }, { status: 200, length: 100000, connection: 'close' }, 'HTTP/1.1: 200, the whole body, Connection: close')
  await r1.socketClosed
  const { report } = await drained
  t.strictSame(report, { sessions: 1, sockets: 1, destroyed: 0 }, 'the report')
  t.strictSame(distinct(goaways), [NOTICE, { lastStreamId: 1, errorCode: 0 }], 'the HTTP/2 client saw the notice, then the final GOAWAY with its stream')
  agent.destroy()
  client.destroy()
}

/**
 * A request the server has not read yet when the shutdown starts (it is blocked, then starts the
 * shutdown from a route): the two-step GOAWAY reads and answers it; the one-step shutdown refuses it.
 */
export async function checkUnread (
  t: Check,
  target: DrainTarget,
  command: 'drain' | 'one-step',
  observer: { get: (path: string) => { streamId: number, outcome: Promise<unknown> } }
): Promise<unknown> {
  const before = target.counts().requests
  const blocking = observer.get(`/block?ms=200&then=${command}`)
  await target.requests(before + 1)
  // sent while the server is blocked (another process), or right after it started the shutdown
  const late = observer.get('/work?ms=0')
  t.strictSame(await blocking.outcome, { kind: 'response', status: 200, body: 'blocked' }, 'the request that started the shutdown is answered')
  return await late.outcome
}

/**
 * The drain's first PING is out, the client has not answered it, and a response finishes: its end
 * is held and no GOAWAY goes yet. The client then sends a request (as one does that reacts to a
 * response it read before the PING) and answers: the request is read and answered, the first
 * GOAWAY arrives ahead of the held end, and the final GOAWAY counts the request. `observer` does
 * not answer PINGs yet.
 */
export async function checkHeldEnd (t: Check, target: DrainTarget, observer: H2Observer): Promise<void> {
  const before = target.counts().requests
  const first = observer.get('/slow?ms=50&size=10')
  await target.requests(before + 1)
  const drained = target.run('drain')
  await observer.received('PING')
  let firstDone = false
  const firstSettled = first.outcome.then(() => { firstDone = true })
  // the route has answered by now: its body is out, its end is not
  await sleep(300)
  t.equal(firstDone, false, 'the response that finished while the PING was out has not ended')
  t.strictSame(observer.goaways, [], 'no GOAWAY before the client answers the PING')
  const late = observer.get('/work?ms=0')
  await sleep(50)
  observer.answerPings()
  await firstSettled
  t.strictSame(await first.outcome, { kind: 'response', status: 200, body: 'x'.repeat(10) }, 'the held response ends once the PING is answered')
  t.strictSame(await late.outcome, { kind: 'response', status: 200, body: 'done' }, 'the request sent before the answer is read and answered')
  await observer.closed
  t.ok(observer.goawayBeforeEnd(first.streamId), 'the first GOAWAY arrives ahead of the held end')
  t.strictSame(distinct(observer.goaways), [NOTICE, { lastStreamId: late.streamId, errorCode: 0 }], 'the final GOAWAY counts the request')
  t.strictSame((await drained).report, { sessions: 1, sockets: 0, destroyed: 0 })
}

/**
 * Milliseconds each h2load request takes on the server: long enough for several of each client's
 * 10 streams to be in flight when the drain starts.
 */
export const WORK_MS = 20

/** Runs h2load against `/work` and starts `command` once the load is on; resolves with h2load's output. */
export async function h2loadDuring (target: DrainTarget, command: 'drain' | 'one-step', args: string[]): Promise<{ stdout: string, result: { report?: DrainReport, sessions?: number, ms: number } }> {
  const clients = Number(args[args.indexOf('-c') + 1])
  const before = target.counts().sessions
  let stdout = ''
  const done = new Promise<void>((resolve, reject) => {
    const child = execFile('h2load', [...args, `${target.origin}/work?ms=${WORK_MS}`], { timeout: 30_000, killSignal: 'SIGKILL' }, (err, out) => {
      stdout = out
      if (err === null) resolve()
      else reject(err)
    })
    child.stdin?.end()
  })
  await target.sessions(before + clients)
  await sleep(400)
  const result = await target.run(command)
  await done
  return { stdout, result }
}
