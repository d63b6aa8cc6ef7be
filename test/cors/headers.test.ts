import fastify, { type FastifyInstance } from 'fastify'
import { test } from 'tap'
import { fleetCors, type FleetCorsOptions } from '../../plugins/cors/index.js'

const APP = 'https://app.example.com'
const VARY_PREFLIGHT = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers'

async function build (opts: FleetCorsOptions, routes?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = fastify()
  await app.register(fleetCors, opts)
  app.get('/items', async () => 'items')
  app.put('/items', async () => 'put')
  routes?.(app)
  await app.ready()
  return app
}

/** The CORS-relevant response headers only, so assertions list exactly what was sent. */
function cors (headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('access-control-') || k === 'vary' || k === 'cache-control'))
}

const preflight = async (app: FastifyInstance, url: string, headers: Record<string, string>): Promise<{ status: number, headers: Record<string, unknown>, body: string }> => {
  const res = await app.inject({ method: 'OPTIONS', url, headers })
  return { status: res.statusCode, headers: cors(res.headers), body: res.body }
}

test('simple requests', async (t) => {
  const list = await build({ origin: [APP, /^https:\/\/[a-z]+\.example\.org$/] })
  let res = await list.inject({ url: '/items', headers: { origin: APP } })
  t.equal(res.statusCode, 200)
  t.same(cors(res.headers), { vary: 'Origin', 'access-control-allow-origin': APP })
  res = await list.inject({ url: '/items', headers: { origin: 'https://api.example.org' } })
  t.same(cors(res.headers), { vary: 'Origin', 'access-control-allow-origin': 'https://api.example.org' }, 'pattern')
  res = await list.inject({ url: '/items', headers: { origin: 'https://evil.example.net' } })
  t.equal(res.statusCode, 200, 'a refused origin still gets the response: the browser hides it')
  t.same(cors(res.headers), { vary: 'Origin' })
  res = await list.inject({ url: '/items' })
  t.same(cors(res.headers), { vary: 'Origin' }, 'no Origin: Vary all the same, for shared caches')

  const star = await build({ exposedHeaders: '*' })
  t.equal((await star.inject({ url: '/items', headers: { origin: APP } })).headers['access-control-expose-headers'], '*')
  const any = await build({ exposedHeaders: ['x-total', 'X-Page'] })
  res = await any.inject({ url: '/items', headers: { origin: APP } })
  t.same(cors(res.headers), { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-total, x-page' })
  res = await any.inject({ url: '/items' })
  t.same(cors(res.headers), { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-total, x-page' }, '"*" is the same for everyone: no Vary')
})

test('credentialed requests never use *', async (t) => {
  const app = await build({ origin: [APP], credentials: true, exposedHeaders: ['x-total'] })
  const res = await app.inject({ url: '/items', headers: { origin: APP, cookie: 'sid=1' } })
  t.same(cors(res.headers), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'x-total'
  })
  const pre = await preflight(app, '/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,X-Request-Id' })
  t.equal(pre.status, 204)
  t.same(pre.headers, {
    'access-control-allow-origin': APP,
    'access-control-allow-methods': 'GET, HEAD, PUT, PATCH, POST, DELETE',
    vary: VARY_PREFLIGHT,
    'access-control-allow-credentials': 'true',
    'access-control-allow-headers': 'content-type, x-request-id',
    'access-control-max-age': '7200'
  })
  t.equal(pre.body, '')
})

test('preflights: allowed, with every option', async (t) => {
  const app = await build({ origin: [APP], methods: ['GET', 'PUT'], allowedHeaders: ['content-type', 'x-request-id'], maxAge: 600, cacheControl: 600, allowPrivateNetwork: true, optionsSuccessStatus: 200 })
  const pre = await preflight(app, '/items?page=2', {
    origin: APP,
    'access-control-request-method': 'PUT',
    'access-control-request-headers': 'x-request-id',
    'access-control-request-private-network': 'true'
  })
  t.equal(pre.status, 200)
  t.same(pre.headers, {
    'access-control-allow-origin': APP,
    'access-control-allow-methods': 'GET, PUT',
    vary: VARY_PREFLIGHT,
    'access-control-allow-headers': 'content-type, x-request-id',
    'access-control-max-age': '600',
    'access-control-allow-private-network': 'true',
    'cache-control': 'public, max-age=600'
  })
  const custom = await build({ cacheControl: 'public, max-age=60, s-maxage=3600', maxAge: null, methods: '*', allowedHeaders: '*' })
  const pre2 = await preflight(custom, '/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-anything' })
  t.same(pre2.headers, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': '*',
    vary: VARY_PREFLIGHT,
    'access-control-allow-headers': '*',
    'cache-control': 'public, max-age=60, s-maxage=3600'
  })
  const noHeaders = await preflight(custom, '/items', { origin: APP, 'access-control-request-method': 'GET' })
  t.notOk('access-control-allow-headers' in await preflight(await build({}), '/items', { origin: APP, 'access-control-request-method': 'PUT' }).then((r) => r.headers), 'reflecting nothing sends no Allow-Headers')
  t.equal(noHeaders.status, 204)
})

test('preflights: refused plainly, and no handler runs', async (t) => {
  let ran = 0
  const app = await build({ origin: [APP], methods: ['GET', 'PUT'], allowedHeaders: ['content-type'] }, (app) => {
    app.delete('/items', async () => { ran++; return 'deleted' })
    app.post('/off', { config: { cors: false } }, async () => { ran++; return 'off' })
    app.post('/admin', { config: { cors: { origin: ['https://admin.example.com'], methods: ['POST'] } } }, async () => { ran++; return 'admin' })
  })
  const refused = { status: 403, headers: { vary: VARY_PREFLIGHT }, body: '' }
  const cases: Array<[string, Record<string, string>]> = [
    ['/items', { origin: 'https://evil.example.net', 'access-control-request-method': 'PUT' }],
    ['/items', { origin: APP, 'access-control-request-method': 'DELETE' }],
    ['/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type, x-secret' }],
    ['/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'bad header' }],
    ['/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-private-network': 'true' }],
    ['/nowhere', { origin: APP, 'access-control-request-method': 'GET' }],
    ['/items', { origin: APP, 'access-control-request-method': 'PATCH' }],
    ['/off', { origin: APP, 'access-control-request-method': 'POST' }],
    ['/admin', { origin: APP, 'access-control-request-method': 'POST' }],
    ['/items', { origin: 'null', 'access-control-request-method': 'PUT' }],
    ['/items', { origin: 'https://app.example.com.evil.net', 'access-control-request-method': 'PUT' }],
    ['/items', { origin: '%%%', 'access-control-request-method': 'PUT' }]
  ]
  for (const [url, headers] of cases) t.same(await preflight(app, url, headers), refused, `${url} ${JSON.stringify(headers)}`)
  t.equal(ran, 0)
  const admin = await preflight(app, '/admin', { origin: 'https://admin.example.com', 'access-control-request-method': 'POST' })
  t.equal(admin.status, 204, 'the route policy allows its own origin')
  t.equal(admin.headers['access-control-allow-origin'], 'https://admin.example.com')
  const off = await app.inject({ method: 'POST', url: '/off', headers: { origin: APP } })
  t.same(cors(off.headers), {}, 'cors: false routes send no CORS header at all')
})

test('route policies: an extra header, and the global policy elsewhere', async (t) => {
  const app = await build({ origin: [APP], allowedHeaders: ['content-type'] }, (app) => {
    app.put('/upload/:id', { config: { cors: { allowedHeaders: ['content-type', 'x-upload-token'], exposedHeaders: ['location'] } } }, async () => 'ok')
  })
  const ok = await preflight(app, '/upload/7', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-upload-token' })
  t.equal(ok.status, 204)
  t.equal(ok.headers['access-control-allow-headers'], 'content-type, x-upload-token')
  t.equal((await preflight(app, '/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-upload-token' })).status, 403)
  const actual = await app.inject({ method: 'PUT', url: '/upload/7', headers: { origin: APP } })
  t.equal(actual.headers['access-control-expose-headers'], 'location')
})

test('null origin only when listed; reflect-any; malformed Origin never throws', async (t) => {
  const withNull = await build({ origin: ['null'] })
  t.equal((await withNull.inject({ url: '/items', headers: { origin: 'null' } })).headers['access-control-allow-origin'], 'null')
  const reflect = await build({ origin: true })
  for (const origin of [APP, 'null', 'http://localhost:3000']) {
    t.equal((await reflect.inject({ url: '/items', headers: { origin } })).headers['access-control-allow-origin'], origin, origin)
  }
  for (const origin of ['', ' ', 'https://[::1', 'https://a.example/path', 'javascript:alert(1)', 'https://a.example, https://b.example', '\u00e9'.repeat(3000), 'x'.repeat(3000)]) {
    const res = await reflect.inject({ url: '/items', headers: { origin: encodeURI(origin) } })
    t.equal(res.statusCode, 200, `malformed ${origin.slice(0, 40)}`)
    t.equal(res.headers['access-control-allow-origin'], undefined)
  }
  const none = await build({ origin: false })
  t.equal((await none.inject({ url: '/items', headers: { origin: APP } })).headers['access-control-allow-origin'], undefined)
})

test('OPTIONS that is not a preflight reaches the app; strictPreflight', async (t) => {
  const app = await build({ origin: [APP] }, (app) => {
    app.options('/items', async () => 'the app\'s own OPTIONS')
  })
  const plain = await app.inject({ method: 'OPTIONS', url: '/items' })
  t.equal(plain.statusCode, 200)
  t.equal(plain.body, 'the app\'s own OPTIONS')
  const withOrigin = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP } })
  t.equal(withOrigin.body, 'the app\'s own OPTIONS', 'an actual cross-origin OPTIONS request')
  t.equal(withOrigin.headers['access-control-allow-origin'], APP)
  const pre = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP, 'access-control-request-method': 'PUT' } })
  t.equal(pre.statusCode, 204, 'a preflight is answered by CORS, not by the app\'s OPTIONS route')
  const noOrigin = await app.inject({ method: 'OPTIONS', url: '/items', headers: { 'access-control-request-method': 'PUT' } })
  t.equal(noOrigin.statusCode, 400)
  t.equal(noOrigin.body, 'Invalid preflight request: Access-Control-Request-Method without Origin\n')
  const lax = await build({ origin: [APP], strictPreflight: false }, (app) => { app.options('/items', async () => 'app') })
  t.equal((await lax.inject({ method: 'OPTIONS', url: '/items', headers: { 'access-control-request-method': 'PUT' } })).body, 'app')
})

test('404s carry the global policy\'s headers; Vary is appended, never replaced', async (t) => {
  const app = await build({ origin: [APP] }, (app) => {
    app.get('/vary', { onRequest: (_req, reply, next) => { reply.header('vary', 'Accept-Encoding'); next() } }, async () => 'ok')
    app.get('/vary-star', { onRequest: (_req, reply, next) => { reply.header('vary', '*'); next() } }, async () => 'ok')
    app.get('/vary-origin', { onRequest: (_req, reply, next) => { reply.header('vary', 'origin'); next() } }, async () => 'ok')
  })
  const missing = await app.inject({ url: '/missing', headers: { origin: APP } })
  t.equal(missing.statusCode, 404)
  t.same(cors(missing.headers), { vary: 'Origin', 'access-control-allow-origin': APP })
  t.equal((await app.inject({ url: '/vary', headers: { origin: APP } })).headers.vary, 'Accept-Encoding, Origin')
  t.equal((await app.inject({ url: '/vary-star', headers: { origin: APP } })).headers.vary, '*')
  t.equal((await app.inject({ url: '/vary-origin', headers: { origin: APP } })).headers.vary, 'origin')
})

test('methods are compared case-insensitively; HEAD routes follow their GET route', async (t) => {
  const app = await build({ origin: [APP] }, (app) => {
    app.get('/versioned', { constraints: { version: '1.0.0' }, config: { cors: { origin: ['https://v1.example'] } } }, async () => 'v1')
    app.get('/versioned', { constraints: { version: '2.0.0' }, config: { cors: false } }, async () => 'v2')
  })
  t.equal((await preflight(app, '/versioned', { origin: 'https://v1.example', 'access-control-request-method': 'GET' })).status, 204, 'routes that differ by constraints share the first one\'s policy')
  t.equal((await preflight(app, '/items', { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-a,, x-b ,' })).headers['access-control-allow-headers'], 'x-a, x-b', 'empty names are skipped')
  const bad = await preflight(app, '/items/%E0%A4%A', { origin: APP, 'access-control-request-method': 'GET' })
  t.same({ status: bad.status, headers: bad.headers }, { status: 400, headers: {} }, 'an undecodable path is refused by Fastify\'s router first')
  t.equal((await preflight(app, '/items', { origin: APP, 'access-control-request-method': 'FROB' })).status, 403, 'an unknown method matches no route')
  t.equal((await preflight(app, '/items', { origin: APP, 'access-control-request-method': 'put' })).status, 204)
  t.equal((await preflight(app, '/items', { origin: APP, 'access-control-request-method': 'HEAD' })).status, 204)
})
