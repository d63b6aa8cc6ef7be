// HTTP/2 abuse against serverOptions()'s limits, with a raw HTTP/2 client (test/helpers/h2-observer.ts)
// that does what node:http2's client will not: ignore the advertised limits, reset streams at once.
import { once } from 'node:events'
import { connect } from 'node:http2'
import t, { test } from 'tap'
import { abuseTarget, bystanders, within } from '../helpers/abuse.js'
import { h2Request } from '../helpers/clients.js'
import { sleep } from '../helpers/eventually.js'
import { H2Observer } from '../helpers/h2-observer.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'

const REFUSED_STREAM = 7
const ENHANCE_YOUR_CALM = 11
const MAX_STREAMS = 20_000
const MAX_ATTACK_MS = 5000

let pair: KeyPair
t.before(async () => { pair = await selfSignedPair() })

test('rapid reset: the attacking connection is ended; other clients are served throughout and the server stays up', async (t) => {
  // nghttp2's reset rate limit sends GOAWAY after about 1000 streams; Node 22 and 24 then close the
  // connection, Node 20 stops reading it and leaves it to the idle-session timeout, short here
  // (test/fixtures/rapid-reset.mjs shows each version with the defaults)
  const target = await abuseTarget(t, pair, { http2SessionTimeout: 2000 })
  const others = bystanders(target.origin)
  await sleep(200)
  const attacker = await H2Observer.connect(target.origin)
  const connection = { ended: false }
  attacker.closed.then(() => { connection.ended = true }, () => {})

  let sent = 0
  const started = Date.now()
  while (!connection.ended && attacker.goaways.length === 0 && sent < MAX_STREAMS && Date.now() - started < MAX_ATTACK_MS) {
    const flowing = attacker.openAndCancel(100)
    sent += 100
    // the server reads no faster: wait for it (bounded by the loop's own deadline)
    if (!flowing) await Promise.race([sleep(50), attacker.closed])
    await new Promise((resolve) => setImmediate(resolve))
  }
  const goneOrTold = await within(10_000, () => connection.ended || attacker.goaways.length > 0)
  t.ok(goneOrTold, `the server told the attacker to go away or closed its connection (${sent} streams sent, GOAWAYs ${JSON.stringify(attacker.goaways)})`)
  t.ok(attacker.goaways.every((g) => g.errorCode !== 0), 'any GOAWAY carries an error code')
  t.ok(sent < MAX_STREAMS, `ended before the attack's cap (${sent} streams sent)`)
  t.ok(await within(10_000, () => connection.ended), 'the attacker\'s connection is closed (Node 20: by the idle-session timeout)')
  t.ok(await within(10_000, () => target.connections.size <= 2), `the server holds no connection of the attacker (${target.connections.size} open, the bystanders' included)`)

  await sleep(200)
  const seen = await others.stop()
  t.ok(seen.h2.length >= 2 && seen.h1.length >= 2, `the bystanders kept asking (${seen.h2.length} HTTP/2, ${seen.h1.length} HTTP/1.1)`)
  t.strictSame(seen.h2.filter((s) => s !== 200), [], 'every HTTP/2 bystander request got 200')
  t.strictSame(seen.h1.filter((s) => s !== 200), [], 'every HTTP/1.1 bystander request got 200')
  attacker.close()
})

test('a client is held to maxConcurrentStreams: node:http2 queues the rest, the session goes on', async (t) => {
  const target = await abuseTarget(t, pair, { maxConcurrentStreams: 10 })
  const session = connect(target.origin, { rejectUnauthorized: false })
  t.teardown(() => session.destroy())
  // (streams sent before the server's SETTINGS arrive are not held to them: see the next test)
  await once(session, 'remoteSettings')
  const statuses = Array.from({ length: 15 }, async () => await new Promise<number>((resolve, reject) => {
    const stream = session.request({ ':path': '/hold' })
    stream.once('response', (headers) => resolve(Number(headers[':status'])))
    stream.once('error', reject)
    stream.resume()
  }))
  t.ok(await within(10_000, () => target.held === 10), 'ten requests reach the server')
  await sleep(300)
  t.equal(target.held, 10, 'and no more while those are open')
  target.release()
  t.ok(await within(10_000, () => target.held === 5), 'the other five once they end')
  target.release()
  t.strictSame(await Promise.all(statuses), Array(15).fill(200), 'all fifteen: 200')
  t.equal(session.closed, false, 'the session is still open')
})

test('streams over maxConcurrentStreams sent before the client acknowledged it are refused; the session goes on', async (t) => {
  const target = await abuseTarget(t, pair, { maxConcurrentStreams: 10 })
  const client = await H2Observer.connect(target.origin, { ackSettings: false })
  t.teardown(() => client.close())
  const streams = Array.from({ length: 15 }, () => client.get('/hold'))
  const refused = await Promise.all(streams.slice(10).map(async (s) => await s.outcome))
  t.strictSame(refused, Array(5).fill({ kind: 'reset', errorCode: REFUSED_STREAM }), 'the 5 over the limit: REFUSED_STREAM')
  t.ok(await within(10_000, () => target.held === 10), 'the 10 within it reach the server')
  target.release()
  const held = await Promise.all(streams.slice(0, 10).map(async (s) => await s.outcome))
  t.strictSame(held, Array(10).fill({ kind: 'response', status: 200, body: '{"held":true}' }), 'the 10 within it: 200')
  t.strictSame(await client.get('/').outcome, { kind: 'response', status: 200, body: '{"ok":true}' }, 'the session still serves')
  t.strictSame(client.goaways, [], 'no GOAWAY')
})

test('a client that ignores the acknowledged maxConcurrentStreams loses its connection, the others are served', async (t) => {
  const target = await abuseTarget(t, pair, { maxConcurrentStreams: 10 })
  const others = bystanders(target.origin)
  const client = await H2Observer.connect(target.origin)
  t.teardown(() => client.close())
  const streams = Array.from({ length: 15 }, () => client.get('/hold'))
  t.ok(await within(10_000, () => !client.open), 'the connection is closed (a protocol error)')
  const outcomes = await Promise.all(streams.map(async (s) => await s.outcome))
  t.equal(outcomes.filter((o) => o.kind === 'response').length, 0, 'no stream of it was answered')
  t.ok(await within(10_000, () => target.connections.size <= 2), `the server closed its side too (${target.connections.size} open, the bystanders' included)`)
  await sleep(200)
  const seen = await others.stop()
  t.strictSame([...seen.h2, ...seen.h1].filter((s) => s !== 200), [], 'the other clients got 200')
})

test('a header list over maxHeaderSize is refused on its stream; the session and the others go on', async (t) => {
  const target = await abuseTarget(t, pair)
  const client = await H2Observer.connect(target.origin)
  t.teardown(() => client.close())
  // (each header counts its name, its value and 32 bytes: RFC 9113 §6.5.2)
  t.strictSame(await client.get('/', { 'x-big': 'a'.repeat(17_000) }).outcome, { kind: 'reset', errorCode: ENHANCE_YOUR_CALM }, 'over 16 KiB: the stream is reset')
  t.strictSame(await client.get('/', { 'x-fits': 'a'.repeat(16_000) }).outcome, { kind: 'response', status: 200, body: '{"ok":true}' }, 'within: 200')
  t.strictSame(client.goaways, [], 'no GOAWAY: the session goes on')
  t.equal((await h2Request(target.origin, '/')).status, 200, 'another client is served')
})

test('a SETTINGS frame over maxSettings entries ends the session, not the server', async (t) => {
  // the session timeout is what closes the connection nghttp2 stopped reading after its GOAWAY
  const target = await abuseTarget(t, pair, { maxSettings: 4, http2SessionTimeout: 1000 })
  const client = await H2Observer.connect(target.origin)
  t.teardown(() => client.close())
  client.rawFrame(4, 0, 0, Buffer.concat(Array.from({ length: 8 }, (_, i) => settingEntry(3, 100 + i))))
  await within(10_000, () => client.goaways.length > 0 || !client.open)
  t.strictSame(client.goaways.map((g) => g.errorCode), [ENHANCE_YOUR_CALM], 'a SETTINGS frame of 8 entries: GOAWAY ENHANCE_YOUR_CALM')
  t.ok(await within(10_000, () => !client.open), 'and the connection is closed (by the session timeout)')
  t.strictSame(await h2Request(target.origin, '/').then((r) => r.status), 200, 'another client is served')
})

function settingEntry (id: number, value: number): Buffer {
  const entry = Buffer.alloc(6)
  entry.writeUInt16BE(id, 0)
  entry.writeUInt32BE(value, 2)
  return entry
}
