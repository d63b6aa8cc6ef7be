import { hostname } from 'node:os'
import t, { test, type Test } from 'tap'
import { buildApp } from '../../examples/fleet-app/app.js'
import { readConfig } from '../../examples/fleet-app/config.js'
import { listen } from '../helpers/app.js'
import { h1Request, h2Request, type ClientResponse, type RequestOptions } from '../helpers/clients.js'
import { makePki, tlsFiles, type TestPki, type TlsFiles } from '../helpers/tls.js'

const SECRET = 'a-test-secret-that-is-long-enough-to-sign'
let pki: TestPki
/** The demo reads its key and certificate from files (TLS_KEY, TLS_CERT), and watches them. */
let files: TlsFiles
let chained: TlsFiles
t.before(async () => {
  pki = await makePki()
  files = await tlsFiles(t, pki.leaf)
  chained = await tlsFiles(t, { key: pki.leaf.key, cert: pki.leaf.cert + pki.intermediate.cert })
})

type Send = (origin: string, path?: string, opts?: RequestOptions) => Promise<ClientResponse>

/** A client that keeps the session cookie between requests, like a browser. */
function browser (send: Send, origin: string, ca: string): { request: (path: string, opts?: RequestOptions) => Promise<ClientResponse>, cookie: () => string } {
  let cookie = ''
  return {
    cookie: () => cookie,
    request: async (path, opts = {}) => {
      const res = await send(origin, path, { ...opts, ca, headers: { ...opts.headers, ...(cookie === '' ? {} : { cookie }) } })
      const set = res.headers['set-cookie']
      if (set !== undefined && set.length > 0) cookie = (set[0] as string).split(';')[0] as string
      return res
    }
  }
}

async function start (tt: { teardown: (fn: () => unknown) => void }, env: NodeJS.ProcessEnv = {}, fullchain = false): Promise<string> {
  const config = readConfig({ WORKERS: '1', SESSION_STORE: 'memory', TLS_CERT: 'unused', TLS_KEY: 'unused', ...env })
  // TLS_CERT may hold the whole chain, or TLS_CA the intermediate
  const tls = fullchain
    ? { key: chained.key, cert: chained.cert, ca: undefined }
    : { key: files.key, cert: files.cert, ca: pki.intermediate.cert }
  const app = await buildApp({ config: { ...config, tls }, sessionSecret: SECRET })
  const { port } = await listen(tt, app)
  return `https://localhost:${port}`
}

for (const [protocol, send, store] of [['HTTP/2', h2Request, 'memory'], ['HTTP/1.1', h1Request, 'memory'], ['HTTP/2', h2Request, 'cluster']] as const) {
  test(`log in, count views, log out over ${protocol}, SESSION_STORE=${store}`, async (t) => {
    const origin = await start(t, { SESSION_STORE: store })
    const b = browser(send, origin, pki.root.cert)

    const health = await b.request('/health')
    t.equal(health.status, 200)
    t.same(JSON.parse(health.body), { status: 'ok', pid: process.pid, host: hostname() })
    t.equal(health.httpVersion, protocol === 'HTTP/2' ? '2.0' : '1.1')
    t.equal(health.headers['set-cookie'], undefined, 'no cookie before there is something to keep')

    t.equal((await b.request('/me')).status, 401)
    const login = await b.request('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada' }) })
    t.equal(login.status, 200)
    t.same(JSON.parse(login.body), { user: 'ada', pid: process.pid })
    const cookie = b.cookie()
    t.match(cookie, /^sessionId=[^;]+$/)
    const setCookie = String(login.headers['set-cookie'])
    t.match(setCookie, /; HttpOnly/)
    t.match(setCookie, /; Secure/)
    t.match(setCookie, /; SameSite=Lax/)

    t.same(JSON.parse((await b.request('/me')).body), { user: 'ada', views: 1, pid: process.pid })
    t.same(JSON.parse((await b.request('/me')).body), { user: 'ada', views: 2, pid: process.pid })

    const again = await b.request('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'grace' }) })
    t.equal(again.status, 200)
    t.not(b.cookie(), cookie, 'logging in regenerates the session id')
    t.same(JSON.parse((await b.request('/me')).body), { user: 'grace', views: 1, pid: process.pid })
    const stale = await send(origin, '/me', { ca: pki.root.cert, headers: { cookie } })
    t.equal(stale.status, 401, 'the old session id is gone')

    const logout = await b.request('/logout', { method: 'POST' })
    t.equal(logout.status, 204)
    t.equal(logout.body, '')
    t.equal((await b.request('/me')).status, 401)
  })
}

for (const [store, service, variable] of [['redis', 'redis', 'REDIS_URL'], ['tiered', 'redis', 'REDIS_URL'], ['postgres', 'postgres', 'DATABASE_URL'], ['mysql', 'mysql', 'MYSQL_URL'], ['memcached', 'memcached', 'MEMCACHED_URL']] as const) {
  test(`SESSION_STORE=${store}: two app instances (two workers, two machines) share one session`, async (t) => {
    const { requireService } = await import('../helpers/services.js')
    const server = await requireService(t, service)
    if (server === null) return
    await twoInstances(t, { SESSION_STORE: store, [variable]: server.url })
  })
}

async function twoInstances (t: Test, env: NodeJS.ProcessEnv): Promise<void> {
  const first = await start(t, env)
  const second = await start(t, env)
  const login = await h2Request(first, '/login', { ca: pki.root.cert, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada' }) })
  t.equal(login.status, 200)
  const cookie = (String(login.headers['set-cookie'])).split(';')[0] as string
  const me = await h2Request(second, '/me', { ca: pki.root.cert, headers: { cookie } })
  t.equal(me.status, 200, 'the other instance knows the session')
  t.same(JSON.parse(me.body), { user: 'ada', views: 1, pid: process.pid })
  t.equal((await h2Request(first, '/logout', { ca: pki.root.cert, method: 'POST', headers: { cookie } })).status, 204)
  t.equal((await h2Request(second, '/me', { ca: pki.root.cert, headers: { cookie } })).status, 401, 'logout holds everywhere')
}

for (const store of ['redis', 'tiered']) {
  test(`SESSION_STORE=${store} with Redis down: logged, and logins fail fast with a 503, the process lives on`, async (t) => {
    const { freePort } = await import('../helpers/ports.js')
    const lines: string[] = []
    const config = readConfig({ WORKERS: '1', SESSION_STORE: store, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, TLS_CERT: 'x', TLS_KEY: 'x' })
    const app = await buildApp({
      config: { ...config, tls: { key: files.key, cert: files.cert, ca: pki.intermediate.cert } },
      sessionSecret: SECRET,
      logger: { level: 'warn', stream: { write: (line) => lines.push(line) } }
    })
    const { port } = await listen(t, app)
    const started = Date.now()
    const login = await h2Request(`https://localhost:${port}`, '/login', { ca: pki.root.cert, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada' }) })
    t.equal(login.status, 503)
    t.ok(Date.now() - started < 2000, 'no wait for an offline queue')
    t.ok(lines.some((l) => JSON.parse(l).msg === 'Redis connection error'), 'the connection error is logged')
  })
}

test('login input is validated', async (t) => {
  const origin = await start(t, {}, true)
  const post = async (body: string): Promise<number> =>
    (await h2Request(origin, '/login', { ca: pki.root.cert, method: 'POST', headers: { 'content-type': 'application/json' }, body })).status
  t.equal(await post('{}'), 400)
  t.equal(await post(JSON.stringify({ user: '' })), 400)
  t.equal(await post(JSON.stringify({ user: 'x'.repeat(101) })), 400)
  t.equal(await post('{not json'), 400)
  const extra = await h2Request(origin, '/login', { ca: pki.root.cert, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada', admin: true }) })
  t.same(JSON.parse(extra.body), { user: 'ada', pid: process.pid }, 'unknown fields are dropped (Fastify\'s removeAdditional)')
})

test('a forged session cookie is a stranger, not an error', async (t) => {
  const origin = await start(t)
  for (const cookie of ['sessionId=forged', 'sessionId=abc.def', 'sessionId=%E0%A4%A', 'sessionId=']) {
    const res = await h2Request(origin, '/me', { ca: pki.root.cert, headers: { cookie } })
    t.equal(res.status, 401, cookie)
  }
})

test('without TLS_CERT/TLS_KEY the app serves the development certificate; sessions in memory', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { devCertificate } = await import('../../plugins/server/index.js')
  const cacheHome = await mkdtemp(join(tmpdir(), 'fleet-app-cache-'))
  const saved = process.env.XDG_CACHE_HOME
  process.env.XDG_CACHE_HOME = cacheHome
  t.teardown(async () => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME
    else process.env.XDG_CACHE_HOME = saved
    await rm(cacheHome, { recursive: true, force: true })
  })
  const app = await buildApp({
    config: readConfig({ WORKERS: '1', SESSION_STORE: 'memory' }),
    sessionSecret: SECRET
  })
  const { port } = await listen(t, app)
  const { cert } = await devCertificate()
  const res = await h2Request(`https://localhost:${port}`, '/health', { ca: cert })
  t.equal(res.status, 200)
})

test('a per-process store in one worker of several says that sessions are not shared', async (t) => {
  const { sessionStore } = await import('../../examples/fleet-app/session-store.js')
  const warnings: Array<[Record<string, unknown>, string]> = []
  const host = {
    log: { warn: (obj: Record<string, unknown>, msg: string) => { warnings.push([obj, msg]) }, error: () => {} } as never,
    addHook: () => undefined
  }
  const store = await sessionStore(readConfig({ WORKERS: '3', SESSION_STORE: 'memory' }), host, true)
  t.equal(store.constructor.name, 'MemoryStore')
  t.equal(warnings.length, 1, 'one warning')
  t.equal(warnings[0]?.[0].sessionStore, 'memory')
  t.match(warnings[0]?.[1], /with 3 workers a session lives in the worker that created it.*SESSION_STORE=cluster, redis, postgres, mysql, memcached or tiered/)
  warnings.length = 0
  await sessionStore(readConfig({ WORKERS: '1', SESSION_STORE: 'memory' }), host, false)
  t.equal(warnings.length, 0, 'memory in one process: nothing to say')
})

test('in production a session store that cannot be reached is a start-up error', async (t) => {
  const { freePort } = await import('../helpers/ports.js')
  const port = await freePort()
  for (const [store, variable, url] of [['redis', 'REDIS_URL', `redis://127.0.0.1:${port}`], ['postgres', 'DATABASE_URL', `postgres://postgres@127.0.0.1:${port}/test`]] as const) {
    const config = readConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET, REDIRECT_PORT: '0', TLS_CERT: 'x', TLS_KEY: 'x', SESSION_STORE: store, [variable]: url })
    await t.rejects(buildApp({ config: { ...config, tls: { key: files.key, cert: files.cert, ca: pki.intermediate.cert } }, sessionSecret: SECRET }),
      { code: 'FLEET_APP_CONFIG', message: new RegExp(`SESSION_STORE: the ${store} session store cannot be reached`) }, store)
  }
})

test('in production the app never falls back to a self-signed certificate', async (t) => {
  const config = readConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET, REDIRECT_PORT: '0' })
  await t.rejects(buildApp({ config, sessionSecret: SECRET }), { code: 'FST_FLEET_SERVER_TLS_MISSING' })
})

test('GET / serves the HTML page', async (t) => {
  const origin = await start(t)
  const res = await h2Request(origin, '/', { ca: pki.root.cert })
  t.equal(res.status, 200)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  t.match(res.body, /<title>fastify-fleet demo<\/title>/)
})

test('CORS_ORIGINS lets a browser app on another origin call the API with credentials', async (t) => {
  const origin = await start(t, { CORS_ORIGINS: 'https://app.example.com' })
  const preflight = await h2Request(origin, '/login', {
    ca: pki.root.cert,
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
  })
  t.equal(preflight.status, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com')
  t.equal(preflight.headers['access-control-allow-credentials'], 'true')
  t.equal(preflight.headers['access-control-max-age'], '7200')

  const foreign = await h2Request(origin, '/health', { ca: pki.root.cert, headers: { origin: 'https://evil.example.net' } })
  t.equal(foreign.status, 200)
  t.equal(foreign.headers['access-control-allow-origin'], undefined, 'an origin not listed gets no CORS headers')

  const none = await start(t)
  const res = await h2Request(none, '/health', { ca: pki.root.cert, headers: { origin: 'https://app.example.com' } })
  t.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS without CORS_ORIGINS')
})

test('GET /fleet: who answered and how, the session store\'s counters; no workers without startCluster', async (t) => {
  const origin = await start(t)
  for (const [send, protocol] of [[h2Request, 'h2'], [h1Request, 'http/1.1']] as const) {
    const res = await send(origin, '/fleet', { ca: pki.root.cert })
    t.equal(res.status, 200)
    const fleet = JSON.parse(res.body)
    t.same(fleet.answeredBy, { pid: process.pid, workerId: 0, host: hostname() })
    t.equal(fleet.protocol, protocol)
    t.equal(fleet.sessionStore.name, 'memory')
    t.match(fleet.sessionStore.stats, { hits: 0, misses: 0, errors: 0, breaker: 'closed' })
    t.equal(fleet.primary, null, 'a bare buildApp has no primary')
    t.same(fleet.workers, [], 'a bare buildApp has no cluster to report')
  }
})
