// Foreign and malformed Origins against the demo as `npm start` runs it (two workers, CORS for
// APP_ORIGIN and DEV_ORIGIN with credentials): on preflights and real requests, over HTTP/2 and
// HTTP/1.1, Access-Control-Allow-Origin only ever names an allowed origin exactly, never `*`.
import t from 'tap'
import { h1Request, h2Request, type ClientResponse } from '../helpers/clients.js'
import { APP_ORIGIN, DEV_ORIGIN, expectSameWorkers, hostileSuite, rawRequest, type Canary, type HostileDemo } from '../helpers/hostile.js'

// the demo starts in 8 s on an idle machine, in 40 s or more on a loaded one
t.setTimeout(180_000)

let running: HostileDemo
let canary: Canary
t.before(async () => { ({ running, canary } = await hostileSuite(t)) })

/** Near misses of the two allowed origins, and plain foreign ones. */
const FOREIGN = [
  'HTTPS://APP.EXAMPLE.COM',
  'https://App.Example.com',
  'https://app.example.com:443',
  'https://app.example.com:8443',
  'https://app.example.com.',
  'https://app.example.com/',
  'https://app.example.com/path',
  'https://app.example.com?x',
  'https://user@app.example.com',
  'https://app.example.com@evil.example',
  'https://evil.example#@app.example.com',
  'https://app.example.evil',
  'https://app.example.com.evil.example',
  'https://evilapp.example.com',
  'https://evil.example/https://app.example.com',
  'http://app.example.com',
  'wss://app.example.com',
  'https://xn--pp-9ia.example.com',
  'https://äpp.example.com',
  'https://app.example.com\t',
  ' https://app.example.com',
  'https://app.example.com, https://evil.example',
  `https://${'a'.repeat(8000)}.app.example.com`,
  'null',
  '*',
  '',
  'http://localhost',
  'http://localhost:5174',
  'http://localhost:05173',
  'http://127.0.0.1:5173',
  'https://localhost:5173',
  'http://localhost.:5173',
  'http://[::1]:5173'
]

type Send = typeof h2Request
const PROTOCOLS: Array<[string, Send]> = [['h2', h2Request], ['h1', h1Request]]

/** The CORS headers of a response (lower-case names), for exact comparisons. */
const cors = (res: ClientResponse): Record<string, unknown> => Object.fromEntries(Object.entries(res.headers).filter(([name]) => name.startsWith('access-control-')))

const preflight = async (send: Send, origin: string, path = '/login', method = 'POST', headers = 'content-type'): Promise<ClientResponse> =>
  await send(running.origin, path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })

t.test('the allowed origins are granted exactly (the control)', async (t) => {
  for (const [v, send] of PROTOCOLS) {
    for (const origin of [APP_ORIGIN, DEV_ORIGIN]) {
      const res = await preflight(send, origin)
      t.equal(res.status, 204, `${origin} preflight (${v})`)
      t.strictSame(cors(res), {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'GET, HEAD, PUT, PATCH, POST, DELETE',
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '7200'
      })
      const real = await send(running.origin, '/me', { headers: { origin, cookie: canary.cookie } })
      canary.noteView()
      t.strictSame([real.status, JSON.parse(real.body).views, cors(real)], [200, canary.views, { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' }], `${origin} real request (${v})`)
    }
  }
})

t.test('foreign and malformed origins: preflights refused with 403, real requests answered without a grant', async (t) => {
  for (const [v, send] of PROTOCOLS) {
    for (const origin of FOREIGN) {
      // HTTP/1.1 clients refuse a tab or space at the ends of a value: those go over HTTP/2 only
      if (v === 'h1' && origin.trim() !== origin) continue
      const what = `${JSON.stringify(origin.slice(0, 40))} (${v})`
      const pre = await preflight(send, origin)
      // nghttp2 drops a field whose value starts or ends with white space (RFC 9113 §8.2.1): no Origin at all
      const dropped = v === 'h2' && origin.trim() !== origin
      t.strictSame([pre.status, cors(pre), pre.headers.vary], dropped ? [400, {}, undefined] : [403, {}, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers'], `preflight ${what}`)
      const real = await send(running.origin, '/health', { headers: { origin } })
      t.strictSame([real.status, cors(real), real.headers.vary], [200, {}, 'Origin'], `GET ${what}`)
    }
  }
  await canary.check(t, 'foreign origins')
})

t.test('a foreign origin with the canary\'s cookie reads nothing it may use: no grant, the session untouched', async (t) => {
  for (const [v, send] of PROTOCOLS) {
    const res = await send(running.origin, '/me', { headers: { origin: 'https://evil.example', cookie: canary.cookie } })
    canary.noteView()
    t.strictSame([res.status, cors(res)], [200, {}], `no grant (${v})`)
    const login = await send(running.origin, '/login', { method: 'POST', headers: { origin: 'https://app.example.evil', 'content-type': 'application/json' }, body: '{"user":"x"}' })
    t.strictSame([login.status, cors(login)], [200, {}], `a cross-site login is answered but not readable (${v})`)
  }
  await canary.check(t, 'foreign origins with cookies')
})

t.test('several Origin headers, and allowed origins asking for what the policy does not allow', async (t) => {
  for (const [v, send] of PROTOCOLS) {
    const two = [APP_ORIGIN, 'https://evil.example'] as unknown as string
    const pre = await send(running.origin, '/login', { method: 'OPTIONS', headers: { origin: two, 'access-control-request-method': 'POST' } })
    t.strictSame([pre.status, cors(pre)], [403, {}], `two Origin headers on a preflight (${v})`)
    const real = await send(running.origin, '/health', { headers: { origin: two } })
    t.strictSame([real.status, cors(real)], [200, {}], `two Origin headers on a real request (${v})`)
    const same = await send(running.origin, '/health', { headers: { origin: [APP_ORIGIN, APP_ORIGIN] as unknown as string } })
    t.strictSame([same.status, cors(same)], [200, {}], `the allowed origin twice is not one origin (${v})`)
    for (const [method, headers] of [['TRACE', 'content-type'], ['CONNECT', 'content-type'], ['POST', 'x-evil'], ['POST', 'content-type, cookie'], ['POST', 'content-type\u00ff'], ['post', 'content-type']]) {
      const res = await preflight(send, APP_ORIGIN, '/login', method, headers)
      t.strictSame([res.status, cors(res)], method === 'post' ? [204, cors(await preflight(send, APP_ORIGIN))] : [403, {}], `${method} with ${headers} (${v})`)
    }
  }
  // request targets as sent (HTTP/2 :path is not normalised by the client): the policy of the
  // route the real request would hit, none when it hits none; a bad URL is Fastify's 400
  const granted = cors(await preflight(h2Request, APP_ORIGIN))
  const targets: Array<[string, number]> = [
    ['/login?x=1#y', 204], ['/nowhere', 403], ['/login/..', 403], ['/%2e%2e/login', 403], ['/LOGIN', 403],
    ['//login', 403], ['/login%00', 403], ['*', 403], ['/%zz', 400]
  ]
  for (const [path, status] of targets) {
    const res = await preflight(h2Request, APP_ORIGIN, path)
    t.strictSame([res.status, cors(res)], [status, status === 204 ? granted : {}], `preflight for ${path}`)
  }
  // a foreign preflight after an allowed one (and the reverse) is answered on its own
  t.equal((await preflight(h2Request, APP_ORIGIN)).status, 204)
  t.equal((await preflight(h2Request, 'https://evil.example')).status, 403)
  t.equal((await preflight(h1Request, APP_ORIGIN)).status, 204)
  await canary.check(t, 'odd preflights')
})

t.test('Origin bytes no client library sends (raw HTTP/1.1 over TLS)', async (t) => {
  const cases: Array<[string, Buffer, number]> = [
    ['NUL inside', Buffer.from(`${APP_ORIGIN}\0`, 'latin1'), 400],
    ['UTF-8', Buffer.from('https://äpp.example.com', 'utf8'), 403],
    ['latin1', Buffer.from('https://\xe4pp.example.com', 'latin1'), 403],
    ['trailing spaces (trimmed by the parser)', Buffer.from(`${APP_ORIGIN}   `, 'latin1'), 204]
  ]
  for (const [what, origin, status] of cases) {
    const res = await rawRequest(running.port, Buffer.concat([
      Buffer.from('OPTIONS /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAccess-Control-Request-Method: POST\r\nOrigin: '),
      origin,
      Buffer.from('\r\n\r\n')
    ]), { tls: true })
    const grant = res.headers['access-control-allow-origin']
    t.strictSame([res.status, grant], [status, status === 204 ? [APP_ORIGIN] : undefined], what)
  }
  await canary.check(t, 'raw origins')
})

t.test('after all of it: the same workers, both answered the canary', async (t) => {
  await expectSameWorkers(t, running, canary)
})
