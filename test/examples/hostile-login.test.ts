// Hostile POST /login bodies against the demo as `npm start` runs it (two workers): not JSON,
// not an object, prototype keys, over the limits, the wrong type. Each is a 4xx and issues no
// session; a logged-in user's session keeps counting through all of them.
import t from 'tap'
import { h1Request, h2Request, type ClientResponse } from '../helpers/clients.js'
import { expectSameWorkers, hostileSuite, rawRequest, sessionCookieOf, type Canary, type HostileDemo } from '../helpers/hostile.js'

// the demo starts in 8 s on an idle machine, in 40 s or more on a loaded one
t.setTimeout(180_000)

let running: HostileDemo
let canary: Canary
t.before(async () => { ({ running, canary } = await hostileSuite(t)) })

const JSON_TYPE = { 'content-type': 'application/json' }
const login = async (request: typeof h2Request, body: string, headers: Record<string, string> = JSON_TYPE): Promise<ClientResponse> =>
  await request(running.origin, '/login', { method: 'POST', headers, body })
/** What a refused login must look like: `status`, Fastify's error `code`, no session cookie. */
const refused = (res: ClientResponse): [number, string | undefined, string | undefined] =>
  [res.status, JSON.parse(res.body).code, sessionCookieOf(res)]

const VALIDATION = 'FST_ERR_VALIDATION'
const INVALID_JSON = 'FST_ERR_CTP_INVALID_JSON_BODY'

t.test('bodies that are not a { user } object: 400, no session', async (t) => {
  const bodies: Array<[string, string, string]> = [
    ['not JSON', 'user=ada', INVALID_JSON],
    ['truncated JSON', '{"user":"ad', INVALID_JSON],
    ['an array', '["ada"]', VALIDATION],
    ['a number', '42', VALIDATION],
    ['null', 'null', VALIDATION],
    ['a string', '"ada"', VALIDATION],
    ['true', 'true', VALIDATION],
    ['an empty object', '{}', VALIDATION],
    ['user an object', '{"user":{"name":"ada"}}', VALIDATION],
    ['user an array', '{"user":["ada"]}', VALIDATION],
    ['user a number', '{"user":1}', VALIDATION],
    ['user null', '{"user":null}', VALIDATION],
    ['user empty', '{"user":""}', VALIDATION],
    ['user true', '{"user":true}', VALIDATION],
    ['__proto__', '{"user":"ada","__proto__":{"admin":true}}', INVALID_JSON],
    ['__proto__ inside user', '{"user":{"__proto__":{"admin":true}}}', INVALID_JSON],
    ['constructor.prototype', '{"user":"ada","constructor":{"prototype":{"admin":true}}}', INVALID_JSON],
    ['101 characters', JSON.stringify({ user: 'x'.repeat(101) }), VALIDATION],
    ['a 1 MB user', JSON.stringify({ user: 'x'.repeat(1_000_000) }), VALIDATION],
    ['nested 10,000 deep', '{"user":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}', VALIDATION],
    ['1e999', '{"user":1e999}', VALIDATION]
  ]
  for (const [what, body, code] of bodies) {
    for (const request of [h2Request, h1Request]) {
      t.strictSame(refused(await login(request, body)), [400, code, undefined], `${what} (${request === h2Request ? 'h2' : 'h1'})`)
    }
  }
  // unknown fields are dropped (Fastify's removeAdditional), the user is taken as sent
  const extra = await login(h2Request, '{"user":"ada","admin":true}')
  t.strictSame([extra.status, JSON.parse(extra.body).user], [200, 'ada'], 'an extra key is dropped')
  await canary.check(t, 'malformed bodies')
})

t.test('an empty body, the wrong content type, over the body limit: 4xx, no session', async (t) => {
  for (const request of [h2Request, h1Request]) {
    const v = request === h2Request ? 'h2' : 'h1'
    t.strictSame(refused(await login(request, '')), [400, 'FST_ERR_CTP_EMPTY_JSON_BODY', undefined], `empty (${v})`)
    // Fastify parses text/plain as a string, which is not the object the schema asks for
    t.strictSame(refused(await login(request, '{"user":"ada"}', { 'content-type': 'text/plain' })), [400, VALIDATION, undefined], `text/plain (${v})`)
    t.strictSame(refused(await login(request, 'user=ada', { 'content-type': 'application/x-www-form-urlencoded' })), [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', undefined], `a form (${v})`)
    // HTTP/1.1 sends a Content-Length, so Fastify sees a body of no type; HTTP/2 sends none, so no body
    const untyped = v === 'h1' ? [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', undefined] : [400, VALIDATION, undefined]
    t.strictSame(refused(await login(request, '{"user":"ada"}', {})), untyped, `no content type (${v})`)
    // over HTTP/1.1, Fastify answers 413 from the Content-Length alone and closes the connection: a
    // client still writing the 2 MB can fail with EPIPE before it reads that answer, so the HTTP/1.1
    // request declares the length and sends no body
    const big = JSON.stringify({ user: 'x'.repeat(2 * 1024 * 1024) })
    const tooLarge = v === 'h1'
      ? await login(request, '', { ...JSON_TYPE, 'content-length': String(Buffer.byteLength(big)) })
      : await login(request, big)
    t.strictSame(refused(tooLarge), [413, 'FST_ERR_CTP_BODY_TOO_LARGE', undefined], `2 MB (${v})`)
  }
  await canary.check(t, 'wrong types and sizes')
})

t.test('framing no client library sends (raw HTTP/1.1 over TLS): 400 before the app, no session', async (t) => {
  const head = 'POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n'
  const body = '{"user":"ada"}'
  const cases: Array<[string, string]> = [
    ['Content-Length and chunked', `${head}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`],
    ['two Content-Lengths', `${head}Content-Length: ${body.length}\r\nContent-Length: 3\r\n\r\n${body}`],
    ['a bad chunk size', `${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`],
    ['a negative Content-Length', `${head}Content-Length: -1\r\n\r\n${body}`]
  ]
  for (const [what, bytes] of cases) {
    const res = await rawRequest(running.port, bytes, { tls: true })
    t.strictSame([res.status, sessionCookieOf(res)], [400, undefined], what)
  }
  await canary.check(t, 'bad framing')
})

t.test('unusual but valid users log in and read back exactly', async (t) => {
  for (const user of ['ünïcødé 😀', '\u0000', '<script>alert(1)</script>', '"; DROP TABLE sessions; --', '\ud800', 'x'.repeat(100)]) {
    const res = await login(h2Request, JSON.stringify({ user }))
    const cookie = sessionCookieOf(res)
    t.equal(res.status, 200, `${JSON.stringify(user).slice(0, 20)} logs in`)
    const me = await h1Request(running.origin, '/me', { headers: { cookie: cookie as string } })
    t.strictSame([me.status, JSON.parse(me.body).user, JSON.parse(me.body).views], [200, user, 1], 'and reads back as sent')
    t.not(cookie, canary.cookie)
  }
  await canary.check(t, 'unusual users')
})

t.test('after all of it: the same workers, both answered the canary', async (t) => {
  await expectSameWorkers(t, running, canary)
})
