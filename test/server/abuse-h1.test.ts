// HTTP/1.1 abuse on the HTTP/2 port (the allowHTTP1 fallback) and on plain HTTP: slow headers, a slow
// body, an idle keep-alive connection, oversized headers. Short limits; outcomes asserted, not speed.
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import fastify from 'fastify'
import t, { test } from 'tap'
import { serverOptions } from '../../plugins/server/index.js'
import { abuseTarget, bystanders, within } from '../helpers/abuse.js'
import { listen } from '../helpers/app.js'
import { h1Request, httpRequestPlain } from '../helpers/clients.js'
import { sleep } from '../helpers/eventually.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'

const TRICKLES = 20
const SHORT = { headersTimeout: 1000, requestTimeout: 2000, keepAliveTimeout: 1000 }

let pair: KeyPair
t.before(async () => { pair = await selfSignedPair() })

/** A raw HTTP/1.1 connection (TLS with ALPN `http/1.1`, or plain) that keeps what the server sent. */
async function rawH1 (port: number, tls = true): Promise<{ socket: Socket, received: () => string, closed: () => boolean }> {
  const socket = tls
    ? tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false })
    : netConnect({ host: '127.0.0.1', port })
  await new Promise((resolve, reject) => {
    socket.once(tls ? 'secureConnect' : 'connect', resolve)
    socket.once('error', reject)
  })
  let received = ''
  let closed = false
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => { received += chunk })
  socket.on('error', () => {})
  socket.once('close', () => { closed = true })
  return { socket, received: () => received, closed: () => closed }
}

/** Writes `start`, then one byte every 500 ms (at most TRICKLES) until the server closes the connection. */
async function trickle (client: Awaited<ReturnType<typeof rawH1>>, start: string): Promise<number> {
  client.socket.write(start)
  let sent = 0
  while (!client.closed() && sent < TRICKLES) {
    await sleep(500)
    if (!client.closed()) client.socket.write('a')
    sent++
  }
  return sent
}

test('slowloris: headers trickled a byte every 500 ms are cut at headersTimeout with 408; others are served', async (t) => {
  const target = await abuseTarget(t, pair, SHORT)
  const others = bystanders(target.origin)
  const slow = await rawH1(target.port)
  t.teardown(() => slow.socket.destroy())
  const sent = await trickle(slow, 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ')
  t.ok(await within(5000, slow.closed), `the server closed the connection (after ${sent} trickled bytes)`)
  t.ok(sent < TRICKLES, 'before the client gave up')
  t.match(slow.received(), /^HTTP\/1\.1 408 /, 'with 408')
  const seen = await others.stop()
  t.strictSame([...seen.h2, ...seen.h1].filter((s) => s !== 200), [], `the other clients got 200 (${seen.h2.length} HTTP/2, ${seen.h1.length} HTTP/1.1)`)
})

test('a body trickled a byte every 500 ms is cut at requestTimeout with 408', async (t) => {
  const target = await abuseTarget(t, pair, SHORT)
  const slow = await rawH1(target.port)
  t.teardown(() => slow.socket.destroy())
  const head = 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n'
  const sent = await trickle(slow, head)
  t.ok(await within(5000, slow.closed), `the server closed the connection (after ${sent} body bytes of 100)`)
  t.ok(sent < TRICKLES, 'before the client gave up')
  t.match(slow.received(), /^HTTP\/1\.1 408 /, 'with 408')
  t.equal((await h1Request(target.origin, '/', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).body, '{"length":5}', 'a normal POST is served')
})

test('an idle keep-alive connection is closed after keepAliveTimeout (Node 20 and 22 set no keep-alive timeout on the HTTP/1.1 fallback)', async (t) => {
  const target = await abuseTarget(t, pair, SHORT)
  const idle = await rawH1(target.port)
  t.teardown(() => idle.socket.destroy())
  idle.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
  t.ok(await within(5000, () => idle.received().includes('{"ok":true}')), 'served')
  t.match(idle.received(), /keep-alive/i, 'and kept alive')
  t.ok(await within(10_000, idle.closed), 'then closed once idle')
})

test('HTTP/1.1 headers over maxHeaderSize get 431; the next request is served', async (t) => {
  const target = await abuseTarget(t, pair)
  const big = await h1Request(target.origin, '/', { headers: { 'x-big': 'a'.repeat(17_000) } }).catch((err: Error) => err)
  t.equal(big instanceof Error ? big.message : big.status, 431)
  t.equal((await h1Request(target.origin, '/', { headers: { 'x-fits': 'a'.repeat(15_000) } })).status, 200, 'within the limit: 200')
})

test('plain HTTP (protocol http) gets the HTTP/1.1 limits too', async (t) => {
  const app = fastify(await serverOptions({ protocol: 'http', limits: SHORT }))
  app.get('/', async () => ({ ok: true }))
  const { origin, port } = await listen(t, app)
  const slow = await rawH1(port, false)
  t.teardown(() => slow.socket.destroy())
  await trickle(slow, 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ')
  t.ok(await within(5000, slow.closed), 'the slow client is cut')
  t.match(slow.received(), /^HTTP\/1\.1 408 /, 'with 408')
  const big = await httpRequestPlain(origin, '/', { headers: { 'x-big': 'a'.repeat(17_000) } })
  t.equal(big.status, 431, 'headers over 16 KiB: 431')
  t.equal((await httpRequestPlain(origin, '/')).status, 200, 'a normal client is served')
})
