import fastify, { type FastifyInstance } from 'fastify'
import { test } from 'tap'
import { fleetHsts, type FleetHstsOptions } from '../../plugins/hsts/index.js'
import { normalizeOptions } from '../../plugins/hsts/options.js'

/** An app behind a TLS-terminating proxy: inject() with X-Forwarded-Proto stands for a TLS request. */
async function proxied (opts?: FleetHstsOptions, routes?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = fastify({ trustProxy: true })
  await app.register(fleetHsts, opts ?? {})
  app.get('/', async () => 'ok')
  routes?.(app)
  await app.ready()
  return app
}

const sts = async (app: FastifyInstance, url = '/', headers: Record<string, string> = {}): Promise<string | string[] | undefined> =>
  (await app.inject({ url, headers: { host: 'example.com', 'x-forwarded-proto': 'https', ...headers } })).headers['strict-transport-security']

test('exact header value for every combination of options', async (t) => {
  const cases: Array<[FleetHstsOptions | undefined, string]> = [
    [undefined, 'max-age=31536000; includeSubDomains'],
    [{}, 'max-age=31536000; includeSubDomains'],
    [{ includeSubDomains: false }, 'max-age=31536000'],
    [{ maxAge: 0 }, 'max-age=0; includeSubDomains'],
    [{ maxAge: 300, includeSubDomains: false }, 'max-age=300'],
    [{ maxAge: 63072000 }, 'max-age=63072000; includeSubDomains'],
    [{ preload: true }, 'max-age=31536000; includeSubDomains; preload'],
    [{ preload: true, maxAge: 63072000, includeSubDomains: true }, 'max-age=63072000; includeSubDomains; preload'],
    [{ preload: false, includeSubDomains: false, maxAge: 86400 }, 'max-age=86400']
  ]
  for (const [opts, expected] of cases) {
    const app = await proxied(opts)
    t.equal(await sts(app), expected, JSON.stringify(opts))
    await app.close()
  }
})

test('preload without what the preload list requires fails registration with a code', async (t) => {
  for (const opts of [{ preload: true, maxAge: 31535999 }, { preload: true, includeSubDomains: false }, { preload: true, maxAge: 0, includeSubDomains: false }]) {
    await t.rejects(async () => { await fastify().register(fleetHsts, opts) }, {
      code: 'FST_FLEET_HSTS_PRELOAD_REQUIREMENTS',
      message: `fastify-fleet/hsts: options: preload requires maxAge ≥ 31536000 and includeSubDomains: true (hstspreload.org), got maxAge ${opts.maxAge ?? 31536000} and includeSubDomains ${String(opts.includeSubDomains ?? true)}`
    }, JSON.stringify(opts))
  }
})

test('invalid options fail registration with a code that names them', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ maxAge: -1 }, /invalid option maxAge: expected a whole number ≥ 0, got -1/],
    [{ maxAge: 1.5 }, /invalid option maxAge/],
    [{ maxAge: '31536000' }, /invalid option maxAge: expected a whole number ≥ 0, got "31536000"/],
    [{ includeSubDomains: 'yes' }, /invalid option includeSubDomains: expected a boolean, got "yes"/],
    [{ preload: 1 }, /invalid option preload: expected a boolean, got 1/],
    [{ skipLocalhost: null }, /invalid option skipLocalhost: expected a boolean, got null/],
    [{ maxage: 10 }, /invalid option maxage: unknown option/],
    [{ redirect: 'yes' }, /invalid option redirect: expected an object/],
    [{ redirect: { allowedHosts: [] } }, /invalid option redirect.allowedHosts: expected a non-empty list of host names/],
    [{ redirect: { allowedHosts: 'example.com' } }, /invalid option redirect.allowedHosts: expected a non-empty list/],
    [{ redirect: { allowedHosts: ['*'] } }, /invalid option redirect.allowedHosts: "\*" is not a host name, an IP address or a \*.example.com wildcard/],
    [{ redirect: { allowedHosts: ['example.com:443'] } }, /"example.com:443" is not a host name/],
    [{ redirect: { allowedHosts: ['user@example.com'] } }, /"user@example.com" is not a host name/],
    [{ redirect: { allowedHosts: ['*.127.0.0.1'] } }, /"\*.127.0.0.1": a wildcard needs a domain name/],
    [{ redirect: { allowedHosts: ['example.com', 7] } }, /redirect.allowedHosts: expected host names, got 7/],
    [{ redirect: { httpsPort: 0 } }, /invalid option redirect.httpsPort: expected a whole number from 1 to 65535, got 0/],
    [{ redirect: { httpsPort: 70000 } }, /redirect.httpsPort/],
    [{ redirect: { mode: 'staging' } }, /invalid option redirect.mode: expected one of "development", "production", got "staging"/],
    [{ redirect: { acmeChallenge: 42 } }, /invalid option redirect.acmeChallenge: expected a folder path or a function/],
    [{ redirect: { acmeChallenge: '' } }, /redirect.acmeChallenge/],
    [{ redirect: { allowedhosts: ['x'] } }, /invalid option redirect.allowedhosts: unknown option/]
  ]
  for (const [opts, message] of cases) {
    await t.rejects(async () => { await fastify().register(fleetHsts, opts as FleetHstsOptions) }, { code: 'FST_FLEET_HSTS_INVALID_OPTION', message }, JSON.stringify(opts))
  }
})

test('options that are not an object (Fastify refuses them before us; direct callers get our code)', async (t) => {
  for (const input of ['x', null, [], 5]) {
    t.throws(() => normalizeOptions(input), { code: 'FST_FLEET_HSTS_INVALID_OPTION', message: /invalid option options: expected an object/ }, JSON.stringify(input))
  }
})

test('a redirect in production needs allowedHosts', async (t) => {
  for (const redirect of [true, { mode: 'production' as const }]) {
    const saved = process.env.NODE_ENV
    if (redirect === true) process.env.NODE_ENV = 'production'
    await t.rejects(async () => { await fastify().register(fleetHsts, { redirect }) }, {
      code: 'FST_FLEET_HSTS_ALLOWED_HOSTS_REQUIRED',
      message: 'fastify-fleet/hsts: redirect needs `allowedHosts` in production (the names it may redirect to); only development defaults to the loopback names'
    })
    process.env.NODE_ENV = saved
  }
})

test('never over plain HTTP; over HTTPS behind a proxy only when trustProxy says so', async (t) => {
  const app = await proxied()
  t.equal(await sts(app, '/', { 'x-forwarded-proto': 'http' }), undefined, 'X-Forwarded-Proto: http')
  t.equal((await app.inject({ url: '/', headers: { host: 'example.com' } })).headers['strict-transport-security'], undefined, 'no X-Forwarded-Proto')

  const untrusted = fastify()
  await untrusted.register(fleetHsts)
  untrusted.get('/', async () => 'ok')
  const res = await untrusted.inject({ url: '/', headers: { host: 'example.com', 'x-forwarded-proto': 'https' } })
  t.equal(res.headers['strict-transport-security'], undefined, 'X-Forwarded-Proto is ignored without trustProxy')

  const onlyProxy = fastify({ trustProxy: '10.0.0.1' })
  await onlyProxy.register(fleetHsts)
  onlyProxy.get('/', async () => 'ok')
  const fromElsewhere = await onlyProxy.inject({ url: '/', remoteAddress: '127.0.0.1', headers: { host: 'example.com', 'x-forwarded-proto': 'https' } })
  t.equal(fromElsewhere.headers['strict-transport-security'], undefined, 'only the trusted proxy may say https')
  const fromProxy = await onlyProxy.inject({ url: '/', remoteAddress: '10.0.0.1', headers: { host: 'example.com', 'x-forwarded-proto': 'https' } })
  t.equal(fromProxy.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
})

test('not for localhost, *.localhost and IP literals unless skipLocalhost is false', async (t) => {
  const app = await proxied()
  const local = ['localhost', 'localhost:8443', 'LOCALHOST.', 'app.localhost', 'a.b.localhost:3000', '127.0.0.1', '127.0.0.1:8443', '10.1.2.3', '[::1]', '[::1]:8443', '[2001:db8::1]']
  for (const host of local) t.equal(await sts(app, '/', { host }), undefined, host)
  for (const host of ['example.com', 'localhost.example.com', 'mylocalhost', 'example.com:8443', 'not a host']) {
    t.equal(await sts(app, '/', { host }), 'max-age=31536000; includeSubDomains', host)
  }
  const always = await proxied({ skipLocalhost: false })
  for (const host of local) t.equal(await sts(always, '/', { host }), 'max-age=31536000; includeSubDomains', `${host} with skipLocalhost: false`)
  // the memo of hosts stays bounded
  for (let i = 0; i < 1100; i++) await sts(app, '/', { host: `h${i}.example.com` })
  t.equal(await sts(app, '/', { host: 'localhost' }), undefined, 'still right after the memo starts over')
})

test('per route: off, or header fields overridden; one header, also on errors and 404', async (t) => {
  const app = await proxied({ maxAge: 600 }, (app) => {
    app.get('/off', { config: { hsts: false } }, async () => 'ok')
    app.get('/long', { config: { hsts: { maxAge: 63072000, preload: true } } }, async () => 'ok')
    app.get('/no-sub', { config: { hsts: { includeSubDomains: false } } }, async () => 'ok')
    app.get('/boom', async () => { throw new Error('boom') })
    app.get('/own', async (_req, reply) => reply.header('strict-transport-security', 'max-age=5').send('ok'))
  })
  t.equal(await sts(app, '/'), 'max-age=600; includeSubDomains')
  t.equal(await sts(app, '/off'), undefined)
  t.equal(await sts(app, '/long'), 'max-age=63072000; includeSubDomains; preload')
  t.equal(await sts(app, '/no-sub'), 'max-age=600')
  t.equal(await sts(app, '/boom'), 'max-age=600; includeSubDomains', 'a 500 carries it too')
  t.equal(await sts(app, '/missing'), 'max-age=600; includeSubDomains', 'a 404 carries it too')
  t.equal(await sts(app, '/own'), 'max-age=5', 'a handler that sets its own value replaces ours: still one header')
})

test('routes with their own onRequest hooks keep them and get the header', async (t) => {
  const ran: string[] = []
  const app = await proxied({}, (app) => {
    app.get('/one', { onRequest: (_req, _reply, next) => { ran.push('one'); next() } }, async () => 'ok')
    app.get('/two', { onRequest: [async () => { ran.push('two-a') }, async () => { ran.push('two-b') }] }, async () => 'ok')
  })
  t.equal(await sts(app, '/one'), 'max-age=31536000; includeSubDomains')
  t.equal(await sts(app, '/two'), 'max-age=31536000; includeSubDomains')
  t.same(ran, ['one', 'two-a', 'two-b'])
})

test('an invalid route override fails when the route is declared', async (t) => {
  const app = fastify()
  await app.register(fleetHsts)
  t.throws(() => app.get('/bad', { config: { hsts: { preload: true, maxAge: 60 } } }, async () => 'ok'), {
    code: 'FST_FLEET_HSTS_PRELOAD_REQUIREMENTS',
    message: /config.hsts of GET \/bad: preload requires/
  })
  t.throws(() => app.get('/bad2', { config: { hsts: { maxAge: -5 } } }, async () => 'ok'), {
    code: 'FST_FLEET_HSTS_INVALID_OPTION',
    message: /invalid option config.hsts of GET \/bad2.maxAge/
  })
  t.throws(() => app.get('/bad3', { config: { hsts: 'off' as unknown as false } }, async () => 'ok'), { code: 'FST_FLEET_HSTS_INVALID_OPTION', message: /config.hsts of GET \/bad3: expected an object/ })
})

test('plugin metadata', async (t) => {
  const meta = (fleetHsts as unknown as Record<symbol, { name: string, fastify: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta?.name, 'fastify-fleet-hsts')
  t.equal(meta?.fastify, '5.x')
})
