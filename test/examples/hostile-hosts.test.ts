// Odd authorities and forwarded headers against the demo's TLS port as `npm start` runs it (two
// workers, no trusted proxy): hostile `:authority` and `Host` values, and X-Forwarded-* /
// Forwarded sent directly by an untrusted peer. No 5xx, no Location, HSTS only as the requested
// host earns it, and the session cookie always Secure, host-only, never moved by a forwarded header.
import t from 'tap'
import { h1Request, h2Request, type ClientResponse } from '../helpers/clients.js'
import { expectSameWorkers, hostileSuite, rawRequest, sessionCookieOf, type Canary, type HostileDemo } from '../helpers/hostile.js'

// the demo starts in 8 s on an idle machine, in 40 s or more on a loaded one
t.setTimeout(180_000)

let running: HostileDemo
let canary: Canary
t.before(async () => { ({ running, canary } = await hostileSuite(t)) })

const HSTS = 'max-age=31536000; includeSubDomains'
/** What a response says about hosts: status, Location, HSTS. */
const hostView = (res: ClientResponse | { status: number, headers: Record<string, unknown> }): [number, unknown, unknown] =>
  [res.status, res.headers.location, res.headers['strict-transport-security']]

/** `:authority` values and whether HSTS is due (not for localhost and IP literals, RFC 6797 §8.3 / browsers). */
const AUTHORITIES: Array<[string, boolean]> = [
  ['evil.example', true],
  ['evil.example:1', true],
  ['EVIL.example.', true],
  ['fleet.example.com:8443', true],
  ['127.0.0.1:1', false],
  ['[::1]:443', false],
  ['localhost', false],
  ['app.localhost', false],
  ['10.0.0.1', false],
  // not host names at all: no exemption applies, and HSTS over HTTPS is harmless
  ['a@evil.example', true],
  ['evil.example:99999', true],
  ['[::1', true],
  [`${'x'.repeat(300)}.example`, true]
]

t.test('HTTP/2 :authority values: answered, no Location, HSTS as the host earns it', async (t) => {
  for (const [authority, hsts] of AUTHORITIES) {
    const res = await h2Request(running.origin, '/health', { headers: { ':authority': authority } })
    t.strictSame(hostView(res), [200, undefined, hsts ? HSTS : undefined], `:authority ${authority.slice(0, 40)}`)
    const mismatch = await h2Request(running.origin, '/health', { headers: { ':authority': '127.0.0.1', host: authority } })
    t.strictSame(hostView(mismatch)[0], 200, `:authority 127.0.0.1 with Host ${authority.slice(0, 40)}`)
    t.equal(mismatch.headers.location, undefined)
  }
  for (const authority of ['', 'évil.example']) {
    await t.rejects(h2Request(running.origin, '/health', { headers: { ':authority': authority } }), { code: 'ERR_HTTP2_STREAM_ERROR', message: /NGHTTP2_PROTOCOL_ERROR/ }, `:authority ${JSON.stringify(authority)} is a protocol error`)
  }
  await canary.check(t, ':authority values')
})

t.test('HTTP/1.1 Host values on the TLS port: answered or refused with a 4xx, never a Location', async (t) => {
  for (const [host, hsts] of AUTHORITIES) {
    const res = await h1Request(running.origin, '/health', { headers: { host } })
    t.strictSame(hostView(res), [200, undefined, hsts ? HSTS : undefined], `Host ${host.slice(0, 40)}`)
  }
  // the HTTP/1.1 side of an HTTP/2 server does not require Host; no route depends on it
  const raw: Array<[string, string, number]> = [
    ['no Host', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n', 200],
    ['two Host lines', 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n', 200],
    ['HTTP/1.0 without Host', 'GET /health HTTP/1.0\r\n\r\n', 200],
    ['absolute-form target', 'GET https://evil.example/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 200],
    ['a Host with a space', 'GET /health HTTP/1.1\r\nHost: evil example\r\nConnection: close\r\n\r\n', 200],
    ['a Host with NUL', 'GET /health HTTP/1.1\r\nHost: evil\0.example\r\nConnection: close\r\n\r\n', 400],
    ['8 KB Host', `GET /health HTTP/1.1\r\nHost: ${'x'.repeat(8192)}\r\nConnection: close\r\n\r\n`, 200],
    ['20 KB Host', `GET /health HTTP/1.1\r\nHost: ${'x'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, 431]
  ]
  for (const [what, bytes, status] of raw) {
    const res = await rawRequest(running.port, bytes, { tls: true })
    t.strictSame([res.status, res.headers.location], [status, undefined], what)
  }
  await canary.check(t, 'Host values')
})

/** X-Forwarded-* and Forwarded as a client could send them itself; no TRUST_PROXY, so none counts. */
const FORWARDED: Array<Record<string, string>> = [
  { 'x-forwarded-proto': 'http' },
  { 'x-forwarded-host': 'localhost' },
  { 'x-forwarded-host': 'evil.example' },
  { 'x-forwarded-for': '1.2.3.4' },
  { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-port': '80' },
  { forwarded: 'for=1.2.3.4;proto=http;host=evil.example' },
  { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'evil.example, localhost', 'x-forwarded-for': 'garbage, , ::1' }
]

t.test('X-Forwarded-* from an untrusted peer change neither HSTS, nor the cookie, nor where anything points', async (t) => {
  for (const [v, send] of [['h2', h2Request], ['h1', h1Request]] as const) {
    for (const forwarded of FORWARDED) {
      const what = `${JSON.stringify(forwarded)} (${v})`
      // a name earns HSTS, an IP literal does not: forwarded headers move neither
      const named = await send(running.origin, '/health', { headers: { ...forwarded, [v === 'h2' ? ':authority' : 'host']: 'fleet.example.com' } })
      t.strictSame(hostView(named), [200, undefined, HSTS], `fleet.example.com with ${what}`)
      const ip = await send(running.origin, '/nowhere', { headers: forwarded })
      t.strictSame(hostView(ip), [404, undefined, undefined], `127.0.0.1 with ${what}`)
      // with a trusted proto=http, @fastify/session would not set a Secure cookie at all
      const login = await send(running.origin, '/login', { method: 'POST', headers: { ...forwarded, 'content-type': 'application/json' }, body: '{"user":"forwarded"}' })
      const setCookie = [login.headers['set-cookie'] ?? []].flat()
      t.equal(login.status, 200, `login with ${what}`)
      t.equal(setCookie.length, 1)
      t.match(setCookie[0], /^sessionId=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/, 'Secure, HttpOnly, host-only (no Domain)')
      t.equal(sessionCookieOf(login) === canary.cookie, false)
      const me = await send(running.origin, '/me', { headers: { ...forwarded, cookie: canary.cookie } })
      canary.noteView()
      t.strictSame([me.status, JSON.parse(me.body).user, JSON.parse(me.body).views], [200, canary.user, canary.views], `the canary with ${what}`)
    }
  }
  await canary.check(t, 'forwarded headers')
})

t.test('HTTP/2 :scheme http over TLS is still HTTPS: HSTS sent, the login cookie Secure', async (t) => {
  const res = await h2Request(running.origin, '/health', { headers: { ':scheme': 'http', ':authority': 'fleet.example.com' } })
  t.strictSame(hostView(res), [200, undefined, HSTS])
  const login = await h2Request(running.origin, '/login', { method: 'POST', headers: { ':scheme': 'http', 'content-type': 'application/json' }, body: '{"user":"scheme"}' })
  t.match([login.headers['set-cookie']].flat(), [/; HttpOnly; Secure; SameSite=Lax$/])
  await canary.check(t, ':scheme http')
})

t.test('after all of it: the same workers, both answered the canary', async (t) => {
  await expectSameWorkers(t, running, canary)
})
