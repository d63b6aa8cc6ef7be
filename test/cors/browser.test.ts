/**
 * fleetCors in a real browser: Chromium (through playwright-core) loads a page from one origin
 * and calls an API on another, over HTTPS and HTTP/2 (the demo app's setup).
 *
 * The page is `https://localhost:P1` and the API `https://localhost:P2`: different origins, so
 * the CORS protocol applies in full (preflights, credentials mode), but one site, so cookies
 * flow the way they do between `app.example.com` and `api.example.com`. (Headless Chromium
 * blocks third-party cookies: between `127.0.0.1` and `localhost`, which are different sites, no
 * cookie ever arrives, whatever the CORS headers say.)
 *
 * The server side counts what the browser really sent: an `onRequest` hook registered before
 * fleetCors counts preflights (OPTIONS with Access-Control-Request-Method) per method and path,
 * and keeps their answers; each handler counts its runs.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { IncomingHttpHeaders } from 'node:http2'
import fastify from 'fastify'
import t, { test, type Test } from 'tap'
import { fleetCors, type CorsCache, type CorsPolicyOptions, type FleetCorsOptions } from '../../plugins/cors/index.js'
import { serverOptions } from '../../plugins/server/index.js'
import { listen } from '../helpers/app.js'
import { chromiumLauncher, openPage, type OpenedPage } from '../helpers/browser.js'
import { makePki, type TestPki } from '../helpers/tls.js'

const chromium = chromiumLauncher(t)

let pki: TestPki
t.before(async () => { pki = await makePki({ hosts: ['localhost', '127.0.0.1'] }) })

const tls = async (): Promise<Awaited<ReturnType<typeof serverOptions>>> =>
  await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: pki.intermediate.cert })

/** The page the browser loads; its origin is what the API's policies allow or refuse. */
async function pageServer (t: Test, host = 'localhost'): Promise<string> {
  const app = fastify(await tls())
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><title>fleet cors e2e</title>'))
  // no 404 for the favicon in the console, where the CORS errors are checked
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send())
  const { port } = await listen(t, app, host === 'localhost' ? '127.0.0.1' : host)
  return `https://${host}:${port}`
}

const VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers'
const DEFAULT_METHODS = 'GET, HEAD, PUT, PATCH, POST, DELETE'

/** A preflight as the server saw it and answered it. */
interface SeenPreflight {
  route: string
  origin: string | undefined
  requestHeaders: string | undefined
  status: number
  /** The `access-control-*` and `vary` headers of the answer. */
  headers: Record<string, string>
}

interface Api {
  /** The app's `fastify.corsCache`. */
  corsCache: CorsCache
  origin: string
  /** Preflights per `METHOD /path` (the method asked for, not OPTIONS). */
  preflights: (route: string) => number
  /** Preflights in arrival order, with their answers. */
  seen: SeenPreflight[]
  /** Handler runs per `METHOD /path`. */
  runs: (route: string) => number
  /** The Cookie header of each handler run, in order. */
  cookies: string[]
}

const corsHeaders = (headers: Record<string, unknown>): Record<string, string> => {
  const picked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('access-control-') || name === 'vary') picked[name] = String(value)
  }
  return picked
}

/** What the helpers below read of a request (any server flavour). */
interface SeenRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

/** Declares a counted route: `config` is its route config, `handle` replaces the default JSON answer. */
type DeclareRoute = (
  method: 'PUT' | 'POST' | 'DELETE',
  path: string,
  config?: { cors: false | CorsPolicyOptions },
  handle?: (reply: { header: (name: string, value: string) => unknown }) => unknown
) => void

/**
 * The API: counters first (so they see preflights fleetCors answers from its own onRequest
 * hook), then fleetCors, then the routes `declare` adds, each handler counted.
 */
async function apiServer (t: Test, options: FleetCorsOptions, declare: (route: DeclareRoute) => void): Promise<Api> {
  const app = fastify(await tls())
  const preflightCounts = new Map<string, number>()
  const runCounts = new Map<string, number>()
  const seen: SeenPreflight[] = []
  const cookies: string[] = []
  const preflightOf = (request: SeenRequest): string | null => {
    const method = request.headers['access-control-request-method']
    return request.method === 'OPTIONS' && typeof method === 'string' ? `${method} ${request.url.split('?')[0] ?? ''}` : null
  }
  app.addHook('onRequest', async (request) => {
    const route = preflightOf(request)
    if (route !== null) preflightCounts.set(route, (preflightCounts.get(route) ?? 0) + 1)
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = preflightOf(request)
    if (route === null) return
    const requestHeaders = request.headers['access-control-request-headers']
    seen.push({
      route,
      origin: request.headers.origin,
      requestHeaders: typeof requestHeaders === 'string' ? requestHeaders : undefined,
      status: reply.statusCode,
      headers: corsHeaders(reply.getHeaders())
    })
  })
  await app.register(fleetCors, options)
  declare((method, path, config, handle) => {
    const route = `${method} ${path}`
    app.route({
      method,
      url: path,
      ...(config === undefined ? {} : { config }),
      handler: async (request, res) => {
        runCounts.set(route, (runCounts.get(route) ?? 0) + 1)
        cookies.push(request.headers.cookie ?? '')
        res.header('x-trace', `trace-${route}`).header('x-secret', 'not exposed')
        if (handle !== undefined) return handle(res)
        return { route, httpVersion: request.raw.httpVersion, requestId: request.headers['x-request-id'] ?? null }
      }
    })
  })
  const { port } = await listen(t, app)
  return {
    corsCache: app.corsCache,
    origin: `https://localhost:${port}`,
    preflights: (route) => preflightCounts.get(route) ?? 0,
    seen,
    runs: (route) => runCounts.get(route) ?? 0,
    cookies
  }
}

/** What the page's `fetch` gave: a readable response, or the error it rejected with. */
type FetchResult =
  | { ok: true, status: number, body: string, trace: string | null, secret: string | null }
  | { ok: false, error: string }

interface FetchInit {
  method: string
  headers?: Record<string, string>
  body?: string
}

/** `fetch(url, { ...init, credentials: 'include' })` run by the page itself. */
async function pageFetch (opened: OpenedPage, url: string, init: FetchInit): Promise<FetchResult> {
  return await opened.page.evaluate(async ({ url, init }) => {
    try {
      const response = await fetch(url, { ...init, credentials: 'include' })
      return {
        ok: true as const,
        status: response.status,
        body: await response.text(),
        trace: response.headers.get('x-trace'),
        secret: response.headers.get('x-secret')
      }
    } catch (err) {
      return { ok: false as const, error: `${(err as Error).name}: ${(err as Error).message}` }
    }
  }, { url, init })
}

const BLOCKED = 'TypeError: Failed to fetch'
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** Chromium's console line for a refused preflight (it checks Allow-Origin before the status). */
const blockedByPreflight = (url: string, origin: string): RegExp => new RegExp(
  `^error: Access to fetch at '${escape(url)}' from origin '${escape(origin)}' has been blocked by CORS policy: ` +
  'Response to preflight request doesn\'t pass access control check: No \'Access-Control-Allow-Origin\' header is present on the requested resource\\.$'
)

/** A page origin logs in: a simple credentialed POST (no preflight) whose answer sets the cookie. */
const login = (sid: string) => (reply: { header: (name: string, value: string) => unknown }): string => {
  reply.header('set-cookie', `sid=${sid}; Path=/; Secure; HttpOnly; SameSite=None`)
  return 'logged in'
}

test('credentialed call with a custom header: one preflight, none again after 5 s (Max-Age), readable body, cookie sent', { timeout: 20_000 }, async (t) => {
  const browser = await chromium(t)
  if (browser === null) return
  const pageOrigin = await pageServer(t)
  const sid = randomUUID()
  const api = await apiServer(t, {
    origin: [pageOrigin],
    credentials: true,
    allowedHeaders: ['content-type', 'x-request-id'],
    exposedHeaders: ['x-trace']
  }, (route) => {
    route('POST', '/login', undefined, login(sid))
    route('PUT', '/items')
    // the control: no Access-Control-Max-Age, so Chromium keeps its preflight 5 s only
    route('PUT', '/control', { cors: { maxAge: null } })
  })
  const opened = await openPage(t, browser, `${pageOrigin}/`, { ignoreHTTPSErrors: true })
  const put = async (path: string, id: string): Promise<FetchResult> => await pageFetch(opened, `${api.origin}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ id })
  })

  t.same(await pageFetch(opened, `${api.origin}/login`, { method: 'POST' }), { ok: true, status: 200, body: 'logged in', trace: 'trace-POST /login', secret: null },
    'the login answer is readable')
  t.equal(api.preflights('POST /login'), 0, 'a simple POST is not preflighted')

  const first = await put('/items', 'first')
  t.same(first, { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /items', httpVersion: '2.0', requestId: 'first' }), trace: 'trace-PUT /items', secret: null },
    'the body and the exposed header are readable, the unexposed one is not')
  t.same(await put('/control', 'first'), { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /control', httpVersion: '2.0', requestId: 'first' }), trace: 'trace-PUT /control', secret: null })
  t.equal(api.preflights('PUT /items'), 1, 'the first call preflights once')
  t.equal(api.preflights('PUT /control'), 1)
  t.same(api.seen.map(({ route, origin, requestHeaders, status, headers }) => ({ route, origin, requestHeaders, status, headers })), [
    {
      route: 'PUT /items',
      origin: pageOrigin,
      requestHeaders: 'content-type,x-request-id',
      status: 204,
      headers: {
        'access-control-allow-origin': pageOrigin,
        'access-control-allow-methods': DEFAULT_METHODS,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'content-type, x-request-id',
        'access-control-max-age': '7200',
        vary: VARY
      }
    },
    {
      route: 'PUT /control',
      origin: pageOrigin,
      requestHeaders: 'content-type,x-request-id',
      status: 204,
      headers: {
        'access-control-allow-origin': pageOrigin,
        'access-control-allow-methods': DEFAULT_METHODS,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'content-type, x-request-id',
        vary: VARY
      }
    }
  ], 'what the preflights asked and got (Max-Age 7200, Chromium\'s cap; none on the control)')

  // past Chromium's 5 s default preflight lifetime (counted from each preflight's answer, all of
  // them in by now), with a margin, and no more: one bounded wait
  await sleep(5500)
  const second = await put('/items', 'second')
  t.same(second, { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /items', httpVersion: '2.0', requestId: 'second' }), trace: 'trace-PUT /items', secret: null },
    'the second call works from the cached preflight')
  t.same(await put('/control', 'second'), { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /control', httpVersion: '2.0', requestId: 'second' }), trace: 'trace-PUT /control', secret: null })
  t.equal(api.preflights('PUT /control'), 2, 'without Max-Age the preflight expired: the wait was long enough')
  t.equal(api.preflights('PUT /items'), 1, 'with Max-Age 7200 the second call was not preflighted')
  t.equal(api.runs('PUT /items'), 2)
  t.equal(api.runs('PUT /control'), 2)
  t.same(api.cookies, ['', `sid=${sid}`, `sid=${sid}`, `sid=${sid}`, `sid=${sid}`], 'the login came without a cookie; its cookie arrived with every call after it')
  t.same(opened.consoleMessages, [], 'no CORS error in the console')
})

test('a route policy refusing the origin: the preflight reaches the server and is refused, the handler never runs', { timeout: 10_000 }, async (t) => {
  const browser = await chromium(t)
  if (browser === null) return
  const pageOrigin = await pageServer(t)
  const api = await apiServer(t, { origin: [pageOrigin], credentials: true }, (route) => {
    route('PUT', '/open')
    route('PUT', '/admin', { cors: { origin: ['https://other.example'] } })
    route('DELETE', '/legacy', { cors: false })
  })
  const opened = await openPage(t, browser, `${pageOrigin}/`, { ignoreHTTPSErrors: true })
  const init = (method: string): FetchInit => ({ method, headers: { 'x-request-id': 'r1' } })

  const open = await pageFetch(opened, `${api.origin}/open`, init('PUT'))
  t.same(open, { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /open', httpVersion: '2.0', requestId: 'r1' }), trace: null, secret: null },
    'the control: the global policy allows this page')

  for (const [method, path] of [['PUT', '/admin'], ['DELETE', '/legacy']] as const) {
    const route = `${method} ${path}`
    t.same(await pageFetch(opened, `${api.origin}${path}`, init(method)), { ok: false, error: BLOCKED }, `${route}: the fetch rejects`)
    t.equal(api.preflights(route), 1, `${route}: the preflight reached the server once`)
    t.equal(api.runs(route), 0, `${route}: the handler never ran`)
    t.same(api.seen.filter((s) => s.route === route).map(({ status, headers }) => ({ status, headers })), [{ status: 403, headers: { vary: VARY } }],
      `${route}: 403 without any Access-Control-Allow-* header`)
    t.ok(await opened.waitForConsole(blockedByPreflight(`${api.origin}${path}`, pageOrigin)), `${route}: Chromium blames the preflight: no Allow-Origin`)
  }
  t.equal(api.runs('PUT /open'), 1)
})

test('a route policy allowing an extra header: the header works there, and is refused (handler never run) on a route without it', { timeout: 10_000 }, async (t) => {
  const browser = await chromium(t)
  if (browser === null) return
  const pageOrigin = await pageServer(t)
  const api = await apiServer(t, { origin: [pageOrigin], credentials: true, allowedHeaders: ['x-request-id'] }, (route) => {
    route('PUT', '/extra', { cors: { allowedHeaders: ['x-request-id', 'x-extra'] } })
    route('PUT', '/plain')
  })
  const opened = await openPage(t, browser, `${pageOrigin}/`, { ignoreHTTPSErrors: true })
  const withExtra: FetchInit = { method: 'PUT', headers: { 'x-request-id': 'r2', 'x-extra': 'yes' } }

  t.same(await pageFetch(opened, `${api.origin}/extra`, withExtra),
    { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /extra', httpVersion: '2.0', requestId: 'r2' }), trace: null, secret: null })
  t.equal(api.preflights('PUT /extra'), 1)
  t.equal(api.runs('PUT /extra'), 1)

  t.same(await pageFetch(opened, `${api.origin}/plain`, withExtra), { ok: false, error: BLOCKED }, 'the same header on a route without it')
  t.equal(api.preflights('PUT /plain'), 1)
  t.equal(api.runs('PUT /plain'), 0, 'the handler never ran')
  t.ok(await opened.waitForConsole(blockedByPreflight(`${api.origin}/plain`, pageOrigin)))

  t.same(await pageFetch(opened, `${api.origin}/plain`, { method: 'PUT', headers: { 'x-request-id': 'r3' } }),
    { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /plain', httpVersion: '2.0', requestId: 'r3' }), trace: null, secret: null },
    'the control: without the extra header the route works')
  t.equal(api.preflights('PUT /plain'), 2, 'a refused preflight is not cached by the browser')
  t.equal(api.runs('PUT /plain'), 1)

  t.same(api.seen.map(({ route, requestHeaders, status, headers }) => ({ route, requestHeaders, status, headers })), [
    {
      route: 'PUT /extra',
      requestHeaders: 'x-extra,x-request-id',
      status: 204,
      headers: {
        'access-control-allow-origin': pageOrigin,
        'access-control-allow-methods': DEFAULT_METHODS,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'x-request-id, x-extra',
        'access-control-max-age': '7200',
        vary: VARY
      }
    },
    { route: 'PUT /plain', requestHeaders: 'x-extra,x-request-id', status: 403, headers: { vary: VARY } },
    {
      route: 'PUT /plain',
      requestHeaders: 'x-request-id',
      status: 204,
      headers: {
        'access-control-allow-origin': pageOrigin,
        'access-control-allow-methods': DEFAULT_METHODS,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'x-request-id',
        'access-control-max-age': '7200',
        vary: VARY
      }
    }
  ])
})

test('an async origin resolver: the refused origin is blocked, the allowed one works, decisions are cached', { timeout: 15_000 }, async (t) => {
  const browser = await chromium(t)
  if (browser === null) return
  const allowed = await pageServer(t)
  const refused = await pageServer(t, '127.0.0.1')
  const asked: string[] = []
  const api = await apiServer(t, {
    origin: async (origin) => {
      asked.push(origin)
      await sleep(2)
      return origin === allowed
    },
    credentials: true,
    allowedHeaders: ['x-request-id']
  }, (route) => { route('PUT', '/data') })
  const call = async (opened: OpenedPage): Promise<FetchResult> => await pageFetch(opened, `${api.origin}/data`, { method: 'PUT', headers: { 'x-request-id': 'r4' } })
  const ok: FetchResult = { ok: true, status: 200, body: JSON.stringify({ route: 'PUT /data', httpVersion: '2.0', requestId: 'r4' }), trace: null, secret: null }
  const stats = (): unknown => api.corsCache.stats()
  const options = { ignoreHTTPSErrors: true }

  const good = await openPage(t, browser, `${allowed}/`, options)
  t.same(await call(good), ok)
  // preflight: both caches miss, the resolver runs; the actual request: a decision hit
  t.same(stats(), { hits: 1, misses: 1, size: 1, preflight: { hits: 0, misses: 1, size: 1 } })

  const bad = await openPage(t, browser, `${refused}/`, options)
  t.same(await call(bad), { ok: false, error: BLOCKED }, 'the refused origin is blocked by the browser')
  t.ok(await bad.waitForConsole(blockedByPreflight(`${api.origin}/data`, refused)))
  // the refusal is cached by the decision cache, never as a whole preflight answer
  t.same(stats(), { hits: 1, misses: 2, size: 2, preflight: { hits: 0, misses: 2, size: 1 } })
  t.same(await call(bad), { ok: false, error: BLOCKED }, 'again')
  t.same(stats(), { hits: 2, misses: 2, size: 2, preflight: { hits: 0, misses: 3, size: 1 } }, 'the second refusal comes from the decision cache')

  // a fresh context has an empty preflight cache: its preflight is answered whole from the server's
  const again = await openPage(t, browser, `${allowed}/`, options)
  t.same(await call(again), ok)
  t.same(stats(), { hits: 3, misses: 2, size: 2, preflight: { hits: 1, misses: 3, size: 1 } })
  t.same(asked, [allowed, refused], 'the resolver ran once per origin')

  api.corsCache.invalidate(allowed)
  t.same(stats(), { hits: 3, misses: 2, size: 1, preflight: { hits: 1, misses: 3, size: 0 } }, 'invalidate() forgets the origin in both caches')
  const afterInvalidation = await openPage(t, browser, `${allowed}/`, options)
  t.same(await call(afterInvalidation), ok)
  t.same(asked, [allowed, refused, allowed], 'after invalidate() the resolver runs again')
  t.same(stats(), { hits: 4, misses: 3, size: 2, preflight: { hits: 1, misses: 4, size: 1 } })

  t.equal(api.preflights('PUT /data'), 5, 'every context preflighted once, the refused one twice')
  t.equal(api.runs('PUT /data'), 3, 'the handler ran for the allowed origin only')
  t.same(api.seen.map((s) => [s.origin, s.status]), [[allowed, 204], [refused, 403], [refused, 403], [allowed, 204], [allowed, 204]])
})
