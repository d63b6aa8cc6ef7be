// The graceful drain of fleetWorker on real servers (this process, Node 20): HTTP/2 + TLS with the
// HTTP/1.1 fallback, HTTP/2 without TLS, HTTP/1.1 only; real clients.
import cluster from 'node:cluster'
import { once } from 'node:events'
import { connect as h2Connect } from 'node:http2'
import { request as httpRequest, Agent as HttpAgent } from 'node:http'
import { request as httpsGet } from 'node:https'
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect as tlsConnect } from 'node:tls'
import fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import { ConnectionTracker, SHUTDOWN_NOTICE_STREAM_ID } from '../../plugins/cluster/drain.js'
import { FST_FLEET_CLUSTER_INVALID_OPTION } from '../../plugins/cluster/errors.js'
import { fleetWorker, WORKER_DEFAULTS, type FleetWorkerOptions } from '../../plugins/cluster/worker-plugin.js'
import { inProcessTarget } from '../helpers/drain-app.js'
import { checkHeldEnd, checkIdleClose, checkInFlight, checkUnread, distinct, keepAliveAgent } from '../helpers/drain-targets.js'
import { H2Observer } from '../helpers/h2-observer.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'

const NOTICE = { lastStreamId: SHUTDOWN_NOTICE_STREAM_ID, errorCode: 0 }
const final = (lastStreamId: number): { lastStreamId: number, errorCode: number } => ({ lastStreamId, errorCode: 0 })
/** The PING and GOAWAY frames a client saw on the connection, in order, consecutive duplicates removed. */
const pingsAndGoaways = (observer: H2Observer): string[] => distinct(observer.connectionFrames.filter((type) => type === 'PING' || type === 'GOAWAY'))

let pair: KeyPair
t.before(async () => { pair = await selfSignedPair() })

/** A request over HTTP/1.1 (TLS, or plain when `origin` is http:) with `agent`; resolves with status, headers, body and the socket. */
function h1 (origin: string, path: string, agent: HttpAgent): Promise<{ status: number, connection: string | undefined, body: string, socket: Socket }> {
  return new Promise((resolve, reject) => {
    const send = origin.startsWith('https:') ? httpsGet : httpRequest
    const req = send(new URL(path, origin), { agent }, (res) => {
      // kept now: a keep-alive response lets go of its socket when it ends
      const socket = res.socket
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.once('end', () => resolve({ status: res.statusCode as number, connection: res.headers.connection, body, socket }))
    })
    req.once('error', reject)
    req.end()
  })
}

/**
 * A TLS connection (ALPN `http/1.1`) that has made no request. Resolves once the server has it too:
 * the client gets its session ticket (TLS 1.3) once the server has completed the handshake.
 */
async function bareConnection (origin: string): Promise<Socket> {
  const url = new URL(origin)
  const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ALPNProtocols: ['http/1.1'], rejectUnauthorized: false })
  socket.on('error', () => {})
  await once(socket, 'session')
  return socket
}

const closed = (socket: Socket): Promise<void> => new Promise((resolve) => {
  if (socket.destroyed) resolve()
  else socket.once('close', () => resolve())
})

t.test('(a) app.close() with an idle HTTP/2 session: prompt, the notice then the final GOAWAY', async (t) => {
  const target = await inProcessTarget(t, pair)
  await checkIdleClose(t, target, async (origin) => await H2Observer.connect(origin))
})

t.test('(b) requests in flight over HTTP/2 and HTTP/1.1 keep-alive complete during a drain', async (t) => {
  await checkInFlight(t, await inProcessTarget(t, pair))
})

t.test('(b) an HTTP/1.1 response whose headers are out completes, then its connection is closed', async (t) => {
  const target = await inProcessTarget(t, pair, {}, (app) => {
    app.get('/stream', (request, reply) => {
      const res = reply.raw
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first ')
      setTimeout(() => res.end('last'), 300)
    })
  })
  const agent = keepAliveAgent()
  t.teardown(() => agent.destroy())
  const response = h1(target.origin, '/stream', agent)
  await sleep(100)
  const drained = target.app.fleet.drain()
  const { status, body, connection, socket } = await response
  t.strictSame({ status, body, connection }, { status: 200, body: 'first last', connection: 'keep-alive' }, 'the headers went out before the drain')
  await closed(socket)
  t.strictSame(await drained, { sessions: 0, sockets: 1, destroyed: 0 })
})

t.test('(c) idle HTTP/1.1 keep-alive connections: a request within noticeWait gets Connection: close, silent ones are closed after it', async (t) => {
  const target = await inProcessTarget(t, pair, { noticeWait: 400 })
  const silentAgent = keepAliveAgent()
  const busyAgent = keepAliveAgent()
  t.teardown(() => { silentAgent.destroy(); busyAgent.destroy() })
  const silent = await h1(target.origin, '/work', silentAgent)
  const busy = await h1(target.origin, '/work', busyAgent)
  t.strictSame([silent.connection, busy.connection], ['keep-alive', 'keep-alive'])
  const bare = await bareConnection(target.origin)
  const started = performance.now()
  const drained = target.app.fleet.drain()
  await sleep(100)
  const next = await h1(target.origin, '/work', busyAgent)
  t.equal(next.socket, busy.socket, 'the next request of a keep-alive client, on the same connection...')
  t.strictSame({ status: next.status, body: next.body, connection: next.connection }, { status: 200, body: 'done', connection: 'close' }, '...is answered, with Connection: close')
  const order: string[] = []
  await Promise.all([
    closed(busy.socket).then(() => order.push('busy')),
    closed(silent.socket).then(() => order.push('silent')),
    closed(bare).then(() => order.push('bare'))
  ])
  const ms = performance.now() - started
  t.equal(order[0], 'busy', 'that connection closes after its response, before the silent ones')
  t.ok(ms >= 350 && ms < 3000, `the silent ones are closed after noticeWait (${Math.round(ms)} ms)`)
  t.strictSame(await drained, { sessions: 0, sockets: 3, destroyed: 0 })
})

t.test('(d) during a drain, a new HTTP/2 session gets the notice and a new HTTP/1.1 request gets Connection: close', async (t) => {
  // a client that does not answer PINGs, with a stream open, holds the drain for noticeWait: the
  // server keeps accepting until every client has had the notice
  const target = await inProcessTarget(t, pair, { noticeWait: 1500 })
  const silent = await H2Observer.connect(target.origin, { answerPings: false })
  const held = silent.get('/slow?ms=1000&size=10')
  await target.requests(1)
  const drained = target.app.fleet.drain()
  await sleep(100)
  const late = await H2Observer.connect(target.origin)
  const agent = keepAliveAgent()
  t.teardown(() => agent.destroy())
  const h1Late = await h1(target.origin, '/work', agent)
  t.strictSame({ status: h1Late.status, body: h1Late.body, connection: h1Late.connection }, { status: 200, body: 'done', connection: 'close' })
  const bare = await bareConnection(target.origin)
  const bareOpened = performance.now()
  await Promise.all([late.closed, closed(h1Late.socket), closed(bare)])
  t.ok(performance.now() - bareOpened >= 1000, 'a connection made during the drain that sends nothing is closed after noticeWait')
  t.strictSame(distinct(late.goaways), [NOTICE, final(0)], 'the late session: the notice, then the final GOAWAY')
  t.strictSame(pingsAndGoaways(late), ['PING', 'GOAWAY'], 'idle: a PING round trip first')
  t.strictSame(await held.outcome, { kind: 'response', status: 200, body: 'x'.repeat(10) })
  await silent.closed
  t.strictSame(distinct(silent.goaways), [NOTICE, final(1)], 'the silent client: the final GOAWAY when its stream ended')
  t.strictSame(await drained, { sessions: 2, sockets: 2, destroyed: 0 })
})

t.test('(e) shutdownTimeout: what still runs at the deadline is destroyed, and the drain resolves', async (t) => {
  const target = await inProcessTarget(t, pair, { shutdownTimeout: 300 })
  const client = h2Connect(target.origin, { rejectUnauthorized: false })
  client.on('error', () => {})
  const h2 = client.request({ ':path': '/slow?ms=60000' })
  h2.on('error', () => {})
  h2.resume()
  let h2Answered = false
  h2.once('response', () => { h2Answered = true })
  const h2Closed = new Promise((resolve) => h2.once('close', resolve))
  const agent = keepAliveAgent()
  t.teardown(() => agent.destroy())
  const h1Ended = h1(target.origin, '/slow?ms=60000', agent).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code)
  await target.requests(2)
  const started = performance.now()
  const report = await target.app.fleet.drain()
  const ms = performance.now() - started
  t.ok(ms >= 250 && ms < 3000, `resolved at the deadline (${Math.round(ms)} ms)`)
  t.strictSame(report, { sessions: 1, sockets: 0, destroyed: 2 })
  t.equal(await h1Ended, 'ECONNRESET', 'the HTTP/1.1 request was cut')
  await h2Closed
  t.equal(h2Answered, false, 'the HTTP/2 stream was cut')
  client.destroy()
})

for (const alpn of ['http/1.1', 'h2']) {
  t.test(`(e) a connection (${alpn}) that completes its TLS handshake after the drain is over is destroyed at once`, async (t) => {
    const target = await inProcessTarget(t, pair)
    const tcp = netConnect({ host: '127.0.0.1', port: Number(new URL(target.origin).port) })
    await once(tcp, 'connect')
    t.strictSame(await target.app.fleet.drain(), { sessions: 0, sockets: 0, destroyed: 0 }, 'a TCP connection still before its TLS handshake is not waited for')
    const late = tlsConnect({ socket: tcp, ALPNProtocols: [alpn], rejectUnauthorized: false })
    late.on('error', () => {})
    late.resume()
    const [handshake] = await Promise.race([once(late, 'secureConnect').then(() => ['done']), once(late, 'close').then(() => ['failed'])])
    t.equal(handshake, 'done', 'the handshake completes')
    await closed(late)
    t.equal(late.alpnProtocol, alpn)
  })
}

t.test('(f) fleetWorker options: exact errors', async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ shutdownTimeout: 0 }, 'shutdownTimeout: expected a whole number from 1 to 2147483647, got 0'],
    [{ shutdownTimeout: -5 }, 'shutdownTimeout: expected a whole number from 1 to 2147483647, got -5'],
    [{ shutdownTimeout: 1.5 }, 'shutdownTimeout: expected a whole number from 1 to 2147483647, got 1.5'],
    [{ shutdownTimeout: 2 ** 31 }, `shutdownTimeout: expected a whole number from 1 to 2147483647, got ${2 ** 31}`],
    [{ shutdownTimeout: Number.NaN }, 'shutdownTimeout: expected a whole number from 1 to 2147483647, got NaN'],
    [{ noticeWait: '1000' }, 'noticeWait: expected a whole number from 1 to 2147483647, got "1000"'],
    [{ noticeWait: null }, 'noticeWait: expected a whole number from 1 to 2147483647, got null'],
    [{ shutdownTimout: 1000 }, 'shutdownTimout: unknown option']
  ]
  for (const [options, message] of cases) {
    const app = fastify()
    app.register(fleetWorker, options as FleetWorkerOptions)
    const err = await app.ready().then(() => null, (err: unknown) => err) as Error & { code: string }
    t.ok(err instanceof FST_FLEET_CLUSTER_INVALID_OPTION, `${JSON.stringify(options)}: FST_FLEET_CLUSTER_INVALID_OPTION`)
    t.ok(err instanceof TypeError)
    t.strictSame({ code: err.code, message: err.message }, { code: 'FST_FLEET_CLUSTER_INVALID_OPTION', message: `fastify-fleet/cluster: invalid option ${message}` })
  }
  const app = fastify()
  await app.register(fleetWorker, { shutdownTimeout: undefined, noticeWait: 2 ** 31 - 1 })
  await app.ready()
  t.pass('undefined values take the default; 2^31-1 is accepted')
  await app.close()
  t.strictSame(WORKER_DEFAULTS, { shutdownTimeout: 10000, noticeWait: 1000 })
})

t.test('(f) fastify.fleet, and fleetWorker registered twice', async (t) => {
  const app = fastify()
  await app.register(fleetWorker)
  const fleet = app.fleet
  await app.register(fleetWorker, { shutdownTimeout: 5 })
  t.equal(app.fleet, fleet, 'the first registration serves')
  t.equal(fleet.workerId, 0, 'not a cluster worker')
  t.equal(fleet.pid, process.pid)
  t.equal(fleet.bus.role, 'standalone')
  t.equal(typeof fleet.drain, 'function')
  t.equal(fleet.draining, false)
  await app.ready()
  const report = await fleet.drain()
  t.strictSame(report, { sessions: 0, sockets: 0, destroyed: 0 }, 'never listened: nothing to drain')
  t.equal(fleet.draining, true)
  t.equal(await fleet.drain(), report, 'a second call gives the same drain')
  await app.close()
})

t.test('(f) fastify.fleet.workerId in a cluster worker is cluster.worker.id', async (t) => {
  const clusterModule = cluster as { worker?: { id: number } }
  clusterModule.worker = { id: 7 }
  t.teardown(() => { delete clusterModule.worker })
  const app = fastify()
  await app.register(fleetWorker)
  t.equal(app.fleet.workerId, 7)
})

t.test('(f) an invalid second registration still rejects', async (t) => {
  const app = fastify()
  await app.register(fleetWorker)
  app.register(fleetWorker, { noticeWait: 0 })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_FLEET_CLUSTER_INVALID_OPTION' })
})

t.test('(g) the report counts sessions, closed HTTP/1.1 connections and destroyed ones', async (t) => {
  const target = await inProcessTarget(t, pair)
  const idle = await H2Observer.connect(target.origin)
  const busy = await H2Observer.connect(target.origin)
  const h2Slow = busy.get('/slow?ms=400&size=5')
  const idleAgent = keepAliveAgent()
  const busyAgent = keepAliveAgent()
  t.teardown(() => { idleAgent.destroy(); busyAgent.destroy() })
  const idleH1 = await h1(target.origin, '/work', idleAgent)
  const h1Slow = h1(target.origin, '/slow?ms=400&size=5', busyAgent)
  const bare = await bareConnection(target.origin)
  await target.requests(2)
  const report = await target.app.fleet.drain()
  t.strictSame(report, { sessions: 2, sockets: 3, destroyed: 0 })
  t.strictSame(await h2Slow.outcome, { kind: 'response', status: 200, body: 'xxxxx' })
  t.equal((await h1Slow).status, 200)
  await Promise.all([idle.closed, busy.closed, closed(idleH1.socket), closed(bare)])
})

t.test('(h) HTTP/2 without TLS drains the same way', async (t) => {
  const app = fastify({ http2: true })
  await app.register(fleetWorker)
  app.get('/slow', async () => {
    await sleep(300)
    return 'slow'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const idle = await H2Observer.connect(origin)
  const busy = await H2Observer.connect(origin)
  const slow = busy.get('/slow')
  await sleep(50)
  const started = performance.now()
  await app.close()
  t.ok(performance.now() - started < 3000, 'app.close() is prompt')
  t.strictSame(await slow.outcome, { kind: 'response', status: 200, body: 'slow' })
  await Promise.all([idle.closed, busy.closed])
  t.strictSame(distinct(idle.goaways), [NOTICE, final(0)])
  t.strictSame(distinct(busy.goaways), [NOTICE, final(1)])
  t.strictSame(pingsAndGoaways(busy), ['PING', 'GOAWAY', 'PING', 'GOAWAY'], 'a stream open: a PING, the notice, a PING, the final GOAWAY')
})

for (const tls of [false, true]) {
  t.test(`(h) HTTP/1.1 only (${tls ? 'https' : 'http'}): in flight completes with Connection: close, idle closed`, async (t) => {
    const app: FastifyInstance<any, any, any, any, any> = tls ? fastify({ https: { key: pair.key, cert: pair.cert } }) : fastify()
    await app.register(fleetWorker)
    app.get('/slow', async () => {
      await sleep(300)
      return 'slow'
    })
    app.get('/fast', async () => 'fast')
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => app.close())
    const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const options = { keepAlive: true, maxSockets: 1, rejectUnauthorized: false }
    const idleAgent = tls ? keepAliveAgent() : new HttpAgent(options)
    const busyAgent = tls ? keepAliveAgent() : new HttpAgent(options)
    t.teardown(() => { idleAgent.destroy(); busyAgent.destroy() })
    const idle = await h1(origin, '/fast', idleAgent)
    const slow = h1(origin, '/slow', busyAgent)
    await sleep(100)
    const started = performance.now()
    const report = await app.fleet.drain()
    t.ok(performance.now() - started < 3000, 'prompt')
    const { status, body, connection } = await slow
    t.strictSame({ status, body, connection }, { status: 200, body: 'slow', connection: 'close' })
    await closed(idle.socket)
    t.strictSame(report, { sessions: 0, sockets: 2, destroyed: 0 })
  })
}

t.test('requests the server has not read when the shutdown starts: answered by the two-step GOAWAY, refused by the one-step', async (t) => {
  for (const command of ['drain', 'one-step'] as const) {
    const target = await inProcessTarget(t, pair)
    const observer = await H2Observer.connect(target.origin)
    const late = await checkUnread(t, target, command, observer)
    t.strictSame(late, command === 'drain' ? { kind: 'response', status: 200, body: 'done' } : { kind: 'refused' }, command)
    observer.close()
  }
})

t.test('responses do not end until the client answers the PING before the notice, and what it sent before that answer is served', async (t) => {
  const target = await inProcessTarget(t, pair)
  await checkHeldEnd(t, target, await H2Observer.connect(target.origin, { answerPings: false }))
})

t.test('a client that does not answer PINGs', async (t) => {
  await t.test('idle: the notice and the final GOAWAY after noticeWait', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 200 })
    const observer = await H2Observer.connect(target.origin, { answerPings: false })
    const started = performance.now()
    t.strictSame(await target.app.fleet.drain(), { sessions: 1, sockets: 0, destroyed: 0 })
    t.ok(performance.now() - started >= 150, 'waited for noticeWait')
    await observer.closed
    t.strictSame(distinct(observer.goaways), [NOTICE, final(0)])
  })
  await t.test('a stream open: the final GOAWAY after noticeWait, then the stream completes', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 200 })
    const observer = await H2Observer.connect(target.origin, { answerPings: false })
    const slow = observer.get('/slow?ms=800&size=3')
    await target.requests(1)
    const drained = target.app.fleet.drain()
    await sleep(500)
    t.strictSame(distinct(observer.goaways), [NOTICE, final(1)], 'both GOAWAYs before the stream ends')
    t.strictSame(await slow.outcome, { kind: 'response', status: 200, body: 'xxx' })
    t.strictSame(await drained, { sessions: 1, sockets: 0, destroyed: 0 })
  })
  await t.test('a response that finishes while the first PING waits: held until noticeWait, then the notice goes ahead of its end', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 600 })
    const observer = await H2Observer.connect(target.origin, { answerPings: false })
    const drained = target.app.fleet.drain()
    await observer.received('PING')
    const started = performance.now()
    const request = observer.get('/slow?ms=50&size=2')
    t.strictSame(await request.outcome, { kind: 'response', status: 200, body: 'xx' })
    t.ok(performance.now() - started >= 400, 'its end waited for noticeWait')
    t.strictSame(await drained, { sessions: 1, sockets: 0, destroyed: 0 })
    t.strictSame(distinct(observer.goaways), [NOTICE, final(1)])
    t.ok(observer.goawayBeforeEnd(request.streamId), 'the notice arrives ahead of the end')
  })
  await t.test('it answers the first PING only: the final GOAWAY when its last stream ends, not at noticeWait', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 5000 })
    const observer = await H2Observer.connect(target.origin, { answerPings: 1 })
    const slow = observer.get('/slow?ms=300&size=2')
    await target.requests(1)
    const started = performance.now()
    t.strictSame(await target.app.fleet.drain(), { sessions: 1, sockets: 0, destroyed: 0 })
    t.ok(performance.now() - started < 3000, 'prompt')
    t.strictSame(await slow.outcome, { kind: 'response', status: 200, body: 'xx' })
    t.strictSame(distinct(observer.goaways), [NOTICE, final(1)])
    t.strictSame(pingsAndGoaways(observer), ['PING', 'GOAWAY', 'PING', 'GOAWAY'])
  })
  await t.test('shutdownTimeout shorter than noticeWait: destroyed at the deadline, before or after the notice', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 5000, shutdownTimeout: 300 })
    const idle = await H2Observer.connect(target.origin, { answerPings: false })
    // this one answers: it gets the notice, and its stream outlives the deadline
    const busy = await H2Observer.connect(target.origin)
    busy.get('/slow?ms=60000')
    await target.requests(1)
    const started = performance.now()
    t.strictSame(await target.app.fleet.drain(), { sessions: 1, sockets: 0, destroyed: 2 })
    t.ok(performance.now() - started < 3000)
    await Promise.all([idle.closed, busy.closed])
    t.notOk(idle.goaways.some((goaway) => goaway.lastStreamId === SHUTDOWN_NOTICE_STREAM_ID), 'the idle one was still waiting for its round trip: no notice')
    t.strictSame(busy.goaways.slice(0, 1), [NOTICE])
  })
  await t.test('a response held at the deadline: the session is destroyed, the drain resolves', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 5000, shutdownTimeout: 300 })
    const observer = await H2Observer.connect(target.origin, { answerPings: false })
    const held = observer.get('/slow?ms=50&size=1')
    await target.requests(1)
    const started = performance.now()
    t.strictSame(await target.app.fleet.drain(), { sessions: 0, sockets: 0, destroyed: 1 })
    t.ok(performance.now() - started < 3000, 'at the deadline')
    t.strictSame(await held.outcome, { kind: 'closed' }, 'its end never came')
    t.notOk(observer.goaways.some((goaway) => goaway.lastStreamId === SHUTDOWN_NOTICE_STREAM_ID), 'no notice: the client never answered')
  })
  await t.test('it goes away itself while the first PING waits: no notice, no second close', async (t) => {
    const target = await inProcessTarget(t, pair, { noticeWait: 300 })
    const observer = await H2Observer.connect(target.origin, { answerPings: false })
    const slow = observer.get('/slow?ms=600&size=1')
    await target.requests(1)
    const drained = target.app.fleet.drain()
    await sleep(100)
    observer.goAway()
    t.strictSame(await slow.outcome, { kind: 'response', status: 200, body: 'x' })
    t.strictSame(await drained, { sessions: 0, sockets: 0, destroyed: 0 })
    t.notOk(observer.goaways.some((goaway) => goaway.lastStreamId === SHUTDOWN_NOTICE_STREAM_ID), 'no notice')
  })
})

t.test('a session that is closing already gets no notice', async (t) => {
  const target = await inProcessTarget(t, pair)
  const observer = await H2Observer.connect(target.origin)
  const slow = observer.get('/slow?ms=400&size=1')
  await target.requests(1)
  observer.goAway()
  await sleep(100)
  t.strictSame(await target.app.fleet.drain(), { sessions: 0, sockets: 0, destroyed: 0 })
  t.strictSame(await slow.outcome, { kind: 'response', status: 200, body: 'x' })
  t.strictSame(distinct(observer.goaways), [final(1)], 'only the GOAWAY Node sends when the client goes away')
})

t.test('ConnectionTracker: open connections, and a drain before listening', async (t) => {
  const app = fastify({ http2: true, https: { allowHTTP1: true, key: pair.key, cert: pair.cert } })
  const tracker = new ConnectionTracker(app.server)
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const origin = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  t.strictSame(tracker.open, { sessions: 0, sockets: 0 })
  const observer = await H2Observer.connect(origin)
  const bare = await bareConnection(origin)
  await sleep(50)
  t.strictSame(tracker.open, { sessions: 1, sockets: 1 })
  t.equal(tracker.draining, false)
  const report = await tracker.drain({ timeout: 5000, noticeWait: 1000 })
  t.equal(tracker.draining, true)
  t.strictSame(report, { sessions: 1, sockets: 1, destroyed: 0 })
  t.strictSame(tracker.open, { sessions: 0, sockets: 0 })
  await Promise.all([observer.closed, closed(bare)])

  const idle = new ConnectionTracker(fastify().server)
  t.strictSame(await idle.drain({ timeout: 1000, noticeWait: 1000 }), { sessions: 0, sockets: 0, destroyed: 0 }, 'not listening')
})
