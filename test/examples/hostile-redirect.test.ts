// Hostile Host lines and request targets against the demo's redirect port as `npm start` runs it
// (ALLOWED_HOSTS fleet.example.com, localhost, 127.0.0.1, ::1), sent as exact bytes on raw sockets:
// every answer is a 3xx whose Location is on an allowed host, or a 4xx; never a Location to
// another host, never a hang. The app's users never notice (the canary counts on).
import t, { type Test } from 'tap'
import { ALLOWED_HOSTS, Canary, expectSameWorkers, rawExchange, rawRequest, startHostileDemo, type HostileDemo, type RawResponse } from '../helpers/hostile.js'

// the demo starts in 8 s on an idle machine, in 40 s or more on a loaded one
t.setTimeout(180_000)

let running: HostileDemo
let canary: Canary

// a client that never finishes its request head, left waiting while the other subtests run
let slow: Promise<{ res: RawResponse, ms: number } | Error>

t.before(async () => {
  running = await startHostileDemo(t)
  const started = Date.now()
  slow = rawRequest(running.redirectPort, 'GET /x HTTP/1.1\r\nHost: localhost\r\n', { timeout: 20_000 })
    .then((res) => ({ res, ms: Date.now() - started }), (err: Error) => err)
  canary = await Canary.login(t, running.origin)
  await canary.check(t, 'login')
})

const send = async (bytes: string | Buffer): Promise<RawResponse> => await rawRequest(running.redirectPort, bytes)
const get = (target: string, headers: string): string => `GET ${target} HTTP/1.1\r\n${headers}\r\n`

/** The invariant of every answer: a 3xx to an allowed host over HTTPS on the demo's port, or a 4xx with no Location. */
function expectSafe (t: Test, res: RawResponse, what: string): void {
  const location = res.headers.location
  if (res.status >= 300 && res.status < 400) {
    t.equal(location?.length, 1, `${what}: one Location`)
    const url = new URL(location?.[0] as string)
    t.strictSame([url.protocol, ALLOWED_HOSTS.includes(url.hostname.replace(/^\[(.*)\]$/, '$1')), url.port], ['https:', true, String(running.port)], `${what}: ${location?.[0]?.slice(0, 60)} is on an allowed host`)
  } else {
    t.strictSame([res.status >= 400 && res.status < 500, location], [true, undefined], `${what}: ${res.statusLine}, no Location`)
  }
}

t.test('Host lines: allowed names redirect to themselves, anything else is 400', async (t) => {
  const port = running.port
  const cases: Array<[string, string, number, string | null]> = [
    ['an allowed name', 'Host: fleet.example.com', 301, `https://fleet.example.com:${port}/x?y=1`],
    ['upper case, trailing dot, another port', 'Host: FLEET.Example.COM.:8080', 301, `https://fleet.example.com:${port}/x?y=1`],
    ['localhost, white space around', 'Host:   localhost   ', 301, `https://localhost:${port}/x?y=1`],
    ['a foreign host', 'Host: evil.example', 400, null],
    ['a subdomain of an allowed one', 'Host: evil.fleet.example.com', 400, null],
    ['an allowed name as a suffix', 'Host: fleet.example.com.evil.example', 400, null],
    ['userinfo', 'Host: evil.example@fleet.example.com', 400, null],
    ['userinfo the other way', 'Host: fleet.example.com@evil.example', 400, null],
    ['a path', 'Host: fleet.example.com/evil.example', 400, null],
    ['a backslash', 'Host: fleet.example.com\\evil.example', 400, null],
    ['a list', 'Host: fleet.example.com, evil.example', 400, null],
    ['an empty port', 'Host: fleet.example.com:', 400, null],
    ['a port out of range', 'Host: fleet.example.com:99999', 400, null],
    ['IPv6 loopback', 'Host: [::1]:8080', 301, `https://[::1]:${port}/x?y=1`],
    ['IPv6 loopback written out', 'Host: [0:0:0:0:0:0:0:1]', 301, `https://[::1]:${port}/x?y=1`],
    ['another IPv6 address', 'Host: [::2]', 400, null],
    ['IPv4-mapped IPv6', 'Host: [::ffff:127.0.0.1]', 400, null],
    ['an unclosed bracket', 'Host: [::1', 400, null],
    ['a zone id', 'Host: [fe80::1%25eth0]', 400, null],
    ['a bare IPv6', 'Host: ::1', 400, null],
    ['127.0.0.1 written in decimal', 'Host: 2130706433', 400, null],
    ['a 1 KB name', `Host: ${'a'.repeat(1024)}.example`, 400, null],
    ['an 8 KB name', `Host: ${'a.'.repeat(4096)}example`, 400, null],
    ['a 20 KB name', `Host: ${'a'.repeat(20_000)}`, 431, null],
    ['an empty Host', 'Host: ', 400, null],
    ['no Host', 'X-Nothing: 1', 400, null],
    ['two Host lines, the same', 'Host: localhost\r\nHost: localhost', 400, null],
    ['two Host lines, one foreign', 'Host: localhost\r\nHost: evil.example', 400, null],
    ['two Host lines, foreign first', 'Host: evil.example\r\nHost: localhost', 400, null],
    ['X-Forwarded-Host', 'Host: localhost\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https', 301, `https://localhost:${port}/x?y=1`]
  ]
  for (const [what, headers, status, location] of cases) {
    const res = await send(get('/x?y=1', `${headers}\r\n`))
    t.strictSame([res.status, res.headers.location?.[0] ?? null], [status, location], what)
    expectSafe(t, res, what)
  }
  const http10 = await send('GET /x HTTP/1.0\r\n\r\n')
  t.strictSame([http10.status, http10.body], [400, 'Bad Request: missing Host header\n'], 'HTTP/1.0 without Host')
  const http10Host = await send('GET /x HTTP/1.0\r\nHost: localhost\r\n\r\n')
  t.strictSame([http10Host.status, http10Host.headers.location], [301, [`https://localhost:${port}/x`]], 'HTTP/1.0 with Host')
  await canary.check(t, 'Host lines')
})

t.test('request targets: absolute-form, //host, backslashes, CR/LF, encodings', async (t) => {
  const port = running.port
  const host = 'Host: localhost\r\n'
  const cases: Array<[string, string, number, string | null]> = [
    ['absolute-form to a foreign host', get('http://evil.example/x', host), 400, null],
    ['absolute-form to an allowed host, foreign Host', get('http://fleet.example.com/x', 'Host: evil.example\r\n'), 301, `https://fleet.example.com:${port}/x`],
    ['absolute-form with userinfo', get('http://localhost@evil.example/', host), 400, null],
    ['absolute-form with userinfo and port', get('http://localhost:80@evil.example/', host), 400, null],
    ['absolute-form, fragment before @', get('http://localhost#@evil.example/', host), 400, null],
    ['absolute-form https', get('https://evil.example/', host), 400, null],
    ['absolute-form ftp (a path)', get('ftp://evil.example/', host), 301, `https://localhost:${port}/`],
    ['//evil.example', get('//evil.example/x', host), 301, `https://localhost:${port}//evil.example/x`],
    ['/\\evil.example', get('/\\evil.example', host), 301, `https://localhost:${port}/\\evil.example`],
    ['/%2F%2Fevil.example', get('/%2F%2Fevil.example', host), 301, `https://localhost:${port}/%2F%2Fevil.example`],
    ['encoded CR LF', get('/x%0d%0aLocation:%20http://evil.example/', host), 301, `https://localhost:${port}/x%0d%0aLocation:%20http://evil.example/`],
    ['a query only', get('?next=//evil.example', host), 400, null],
    ['asterisk-form', 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n', 308, `https://localhost:${port}/`],
    ['a 4 KB target', get(`/${'a'.repeat(4096)}`, host), 301, `https://localhost:${port}/${'a'.repeat(4096)}`],
    ['a 20 KB target', get(`/${'a'.repeat(20_000)}`, host), 431, null],
    ['CR LF in the target', `GET /x\r\nHost: evil.example HTTP/1.1\r\n${host}\r\n`, 400, null],
    // Node's parser ends the request line at the LF: the rest is a header line of no consequence
    ['a bare LF in the target', `GET /x\nLocation: http://evil.example/ HTTP/1.1\r\n${host}\r\n`, 301, `https://localhost:${port}/x`],
    ['a space in the target', get('/a b', host), 400, null],
    ['a NUL in the target', get('/a\0b', host), 400, null],
    ['an unknown method', `BREW /x HTTP/1.1\r\n${host}\r\n`, 400, null],
    ['POST keeps its method', `POST /login HTTP/1.1\r\n${host}Content-Length: 2\r\n\r\n{}`, 308, `https://localhost:${port}/login`],
    ['HTTP/2 preface in the clear', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, null]
  ]
  for (const [what, bytes, status, location] of cases) {
    const res = await send(bytes)
    t.strictSame([res.status, res.headers.location?.[0] ?? null], [status, location], what)
    expectSafe(t, res, what)
  }
  // bytes over 0x7f in the target: refused by Node's parser
  const latin1 = await send(Buffer.from(get('/\xe9\xff', host), 'latin1'))
  t.strictSame([latin1.status, latin1.headers.location], [400, undefined], 'bytes over 0x7f')
  await canary.check(t, 'request targets')
})

t.test('pipelined on one connection: each request is judged on its own Host, the connection closes after a 400', async (t) => {
  const port = running.port
  const answers = await rawExchange(running.redirectPort, [
    get('/a', 'Host: localhost\r\n'),
    get('/b', 'Host: evil.example\r\n'),
    get('/c', 'Host: localhost\r\n')
  ].join(''))
  const statuses = [...answers.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => Number(m[1]))
  const locations = [...answers.matchAll(/^location: (.*)\r$/gim)].map((m) => m[1])
  t.strictSame([statuses, locations], [[301, 400], [`https://localhost:${port}/a`]], 'the third request is never read')
  const head = await rawExchange(running.redirectPort, 'HEAD /h HTTP/1.1\r\nHOST: localhost\r\nConnection: close\r\n\r\n')
  t.match(head, new RegExp(`^HTTP/1\\.1 301 Moved Permanently\r\nlocation: https://localhost:${port}/h\r\n`), 'HEAD, an upper-case HOST name')
  const spaced = await rawExchange(running.redirectPort, 'GET /s HTTP/1.1\r\nHost : evil.example\r\n\r\n')
  t.match(spaced, /^HTTP\/1\.1 400 Bad Request\r\n/, 'a space before the colon')
  t.notMatch(spaced, /location/i)
  await canary.check(t, 'pipelining')
})

t.test('a client that never finishes its request head gets 408 soon after headersTimeout (5 s), others are served meanwhile', async (t) => {
  const answer = await slow
  if (answer instanceof Error) throw answer
  t.strictSame([answer.res.status, answer.res.headers.location], [408, undefined], '408, no Location')
  t.ok(answer.ms >= 4900 && answer.ms < 12_000, `after ${answer.ms} ms`)
})

t.test('after all of it: the same workers, both answered the canary', async (t) => {
  await expectSameWorkers(t, running, canary)
})
