// serverOptions()'s `limits`: validation, where each limit lands (createSecureServer options, Fastify
// options, the server object), and that a user's own Fastify options still win.
import type { Http2SecureServer } from 'node:http2'
import fastify from 'fastify'
import t, { test } from 'tap'
import { LIMIT_DEFAULTS, serverOptions } from '../../plugins/server/index.js'
import { within } from '../helpers/abuse.js'
import { listen } from '../helpers/app.js'
import { H2Observer } from '../helpers/h2-observer.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'

const INVALID = 'FST_FLEET_SERVER_INVALID_OPTION'

let pair: KeyPair
t.before(async () => { pair = await selfSignedPair() })

type LimitedServer = Http2SecureServer & {
  timeout: number
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  maxHeaderSize: number
  connectionsCheckingInterval: number
  closeHttp2Sessions?: () => void
}

test('invalid limits fail with a code and name the limit', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'tight', /invalid option limits: expected an object, got "tight"/],
    ['null', null, /invalid option limits: expected an object, got null/],
    ['a misspelt limit', { maxConcurentStreams: 10 }, /invalid option limits.maxConcurentStreams: unknown option/],
    ['zero', { maxConcurrentStreams: 0 }, /invalid option limits.maxConcurrentStreams: expected a whole number from 1 to 4294967295, got 0/],
    ['fractional', { maxHeaderSize: 1.5 }, /invalid option limits.maxHeaderSize: expected a whole number/],
    ['a string', { headersTimeout: '10s' }, /invalid option limits.headersTimeout: expected a whole number from 1 to 2147483647, got "10s"/],
    ['a timeout over setTimeout\'s range', { http2SessionTimeout: 2 ** 31 }, /invalid option limits.http2SessionTimeout: expected a whole number from 1 to 2147483647/],
    ['a setting over 32 bits', { maxSettings: 2 ** 32 }, /invalid option limits.maxSettings/],
    ['headers longer than the request', { headersTimeout: 5000, requestTimeout: 4000 }, /invalid option limits.headersTimeout: must not be longer than limits.requestTimeout/],
    ['headers longer than the default request', { headersTimeout: 200_000 }, /invalid option limits.headersTimeout: must not be longer/]
  ]
  for (const [name, limits, message] of cases) {
    // @ts-expect-error wrong on purpose
    await t.rejects(serverOptions({ key: pair.key, cert: pair.cert, limits }), { code: INVALID, message }, name)
    // @ts-expect-error wrong on purpose
    await t.rejects(serverOptions({ protocol: 'http', limits }), { code: INVALID, message }, `${name} (protocol http)`)
  }
})

test('the defaults: HTTP/2 limits in `https`, Fastify\'s timeouts, a serverFactory', async (t) => {
  const opts = await serverOptions({ key: pair.key, cert: pair.cert })
  t.strictSame(opts.https, {
    settings: { maxConcurrentStreams: 100, maxHeaderListSize: 16384 },
    maxSessionMemory: 10,
    maxSettings: 32,
    maxSessionInvalidFrames: 1000,
    maxSessionRejectedStreams: 100,
    maxOutstandingPings: 10,
    unknownProtocolTimeout: 10000,
    allowHTTP1: true,
    key: opts.https.key,
    cert: opts.https.cert,
    minVersion: 'TLSv1.2'
  })
  t.equal(opts.http2SessionTimeout, 72000)
  t.equal(opts.keepAliveTimeout, 72000)
  t.equal(opts.requestTimeout, 120000)
  t.type(opts.serverFactory, 'function')
  t.strictSame(LIMIT_DEFAULTS, {
    maxConcurrentStreams: 100,
    maxHeaderSize: 16384,
    maxSessionMemory: 10,
    maxSettings: 32,
    maxSessionInvalidFrames: 1000,
    maxSessionRejectedStreams: 100,
    maxOutstandingPings: 10,
    unknownProtocolTimeout: 10000,
    http2SessionTimeout: 72000,
    keepAliveTimeout: 72000,
    headersTimeout: 20000,
    requestTimeout: 120000
  })

  const app = fastify(opts)
  const server = app.server as LimitedServer
  t.equal(server.headersTimeout, 20000, 'the HTTP/1.1 fallback: headersTimeout')
  t.equal(server.requestTimeout, 120000, 'requestTimeout')
  t.equal(server.keepAliveTimeout, 72000, 'keepAliveTimeout')
  t.equal(server.maxHeaderSize, 16384, 'maxHeaderSize')
  t.equal(server.connectionsCheckingInterval, 1000, 'the timeouts are checked every second')
  t.equal(server.closeHttp2Sessions, undefined, 'no session closer without forceCloseConnections: true')
  await app.close()
})

test('each limit can be set; the caller\'s object is not changed', async (t) => {
  const limits = Object.freeze({ maxConcurrentStreams: 7, maxHeaderSize: 4096, maxSessionMemory: 2, headersTimeout: 3000, requestTimeout: 9000, keepAliveTimeout: 4000, http2SessionTimeout: 5000 })
  const opts = await serverOptions({ key: pair.key, cert: pair.cert, limits })
  t.strictSame(opts.https.settings, { maxConcurrentStreams: 7, maxHeaderListSize: 4096 })
  t.equal(opts.https.maxSessionMemory, 2)
  t.strictSame([opts.http2SessionTimeout, opts.keepAliveTimeout, opts.requestTimeout], [5000, 4000, 9000])
  t.strictSame(limits, { maxConcurrentStreams: 7, maxHeaderSize: 4096, maxSessionMemory: 2, headersTimeout: 3000, requestTimeout: 9000, keepAliveTimeout: 4000, http2SessionTimeout: 5000 })
  const app = fastify(opts)
  const server = app.server as LimitedServer
  t.strictSame([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.maxHeaderSize], [3000, 9000, 4000, 4096])
  await app.close()
})

test('Fastify options given next to serverOptions() win over its limits', async (t) => {
  const app = fastify({ ...await serverOptions({ key: pair.key, cert: pair.cert }), keepAliveTimeout: 5000, requestTimeout: 60000, connectionTimeout: 90000 })
  const server = app.server as LimitedServer
  t.equal(server.keepAliveTimeout, 5000)
  t.equal(server.requestTimeout, 60000)
  t.equal(server.timeout, 90000, 'connectionTimeout, as Fastify sets it')
  await app.close()
})

test('the idle-session timeout closes an idle HTTP/2 session', async (t) => {
  const app = fastify(await serverOptions({ key: pair.key, cert: pair.cert, limits: { http2SessionTimeout: 300 } }))
  app.get('/', async () => ({ ok: true }))
  const { origin } = await listen(t, app)
  const client = await H2Observer.connect(origin)
  t.teardown(() => client.close())
  t.strictSame(await client.get('/').outcome, { kind: 'response', status: 200, body: '{"ok":true}' })
  await client.received('GOAWAY')
  t.strictSame(client.goaways.map((g) => g.errorCode), [0], 'GOAWAY NO_ERROR once idle')
  t.ok(await within(10_000, () => !client.open), 'and the connection is closed')
})

test('forceCloseConnections: true closes the open HTTP/2 sessions on app.close(), as Fastify\'s own server does', async (t) => {
  const app = fastify({ ...await serverOptions({ key: pair.key, cert: pair.cert }), forceCloseConnections: true })
  app.get('/', async () => ({ ok: true }))
  const { origin } = await listen(t, app)
  t.type((app.server as LimitedServer).closeHttp2Sessions, 'function')
  const client = await H2Observer.connect(origin)
  t.teardown(() => client.close())
  t.strictSame(await client.get('/').outcome, { kind: 'response', status: 200, body: '{"ok":true}' })
  const closing = app.close()
  await client.received('GOAWAY')
  await closing
  t.ok(await within(10_000, () => !client.open), 'the idle session is closed, the server with it')
})
