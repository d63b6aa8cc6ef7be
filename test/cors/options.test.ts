import fastify from 'fastify'
import { test } from 'tap'
import { fleetCors, type FleetCorsOptions } from '../../plugins/cors/index.js'
import { normalizeOptions, policySpec, routePolicyInput } from '../../plugins/cors/options.js'
import { isAnchored } from '../../plugins/cors/origin.js'

const register = async (opts: unknown): Promise<void> => { await fastify().register(fleetCors, opts as FleetCorsOptions) }

test('credentials with a wildcard fail with a code', async (t) => {
  const cases: Array<[FleetCorsOptions, string]> = [
    [{ credentials: true, origin: '*' }, "origin '*'"],
    [{ credentials: true }, "origin '*'"],
    [{ credentials: true, origin: true }, 'origin: true (reflecting any origin)'],
    [{ credentials: true, origin: 'https://a.example', methods: '*' }, "methods '*'"],
    [{ credentials: true, origin: 'https://a.example', allowedHeaders: '*' }, "allowedHeaders '*'"],
    [{ credentials: true, origin: 'https://a.example', exposedHeaders: '*' }, "exposedHeaders '*'"]
  ]
  for (const [opts, what] of cases) {
    await t.rejects(register(opts), {
      code: 'FST_FLEET_CORS_CREDENTIALS_WILDCARD',
      message: `fastify-fleet/cors: options: credentials: true cannot be combined with ${what} (browsers refuse it, or it would let every site read your users' data)`
    }, JSON.stringify(opts))
  }
})

test('unanchored RegExp origins fail with a code', async (t) => {
  for (const pattern of [/example\.com/, /^https:\/\/example\.com/, /https:\/\/example\.com$/, /^https:\/\/a\.com|https:\/\/b\.com$/, /^https:\/\/a\.com\$/]) {
    await t.rejects(register({ origin: [pattern] }), {
      code: 'FST_FLEET_CORS_UNANCHORED_REGEXP',
      message: `fastify-fleet/cors: options: the origin pattern ${String(pattern)} is not anchored with ^ and $, so it also matches origins such as https://evil-example.com.attacker.net`
    }, String(pattern))
  }
  t.equal(isAnchored(/^https:\/\/(a|b)\.example\.com$/), true, 'alternatives inside a group are anchored')
  t.equal(isAnchored(/^https:\/\/[a|b]\.example\.com$/), true, 'a | inside a class is a character')
  t.equal(isAnchored(/^https:\/\/a\|b\.example\.com$/), true, 'an escaped | is a character')
  await t.rejects(register({ origin: /^https:\/\/a\.example$/g }), { code: 'FST_FLEET_CORS_INVALID_OPTION', message: /the g and y flags make RegExp.test\(\) stateful/ })
})

test('malformed origins in lists fail with a code', async (t) => {
  for (const origin of ['app.example.com', 'https://app.example.com/', 'https://app.example.com/path', 'HTTPS://APP.example.com', 'https://app.example.com:443', 'https://user@app.example.com', '*.example.com', 'ftp://files.example.com', '']) {
    await t.rejects(register({ origin: [origin] }), {
      code: 'FST_FLEET_CORS_INVALID_ORIGIN',
      message: `fastify-fleet/cors: options: ${JSON.stringify(origin)} is not an origin such as https://app.example.com (scheme, host and port only, lower case, no path)`
    }, origin)
  }
})

test('maxAge above every browser cap fails; above Chromium\'s is a warning', async (t) => {
  await t.rejects(register({ maxAge: 86401 }), {
    code: 'FST_FLEET_CORS_MAX_AGE',
    message: 'fastify-fleet/cors: options: maxAge 86401 is above every browser\'s cap (Firefox 86400 s, Chromium 7200 s, WebKit 600 s)'
  })
  const lines: string[] = []
  const app = fastify({ logger: { level: 'warn', stream: { write: (line: string) => lines.push(line) } } })
  await app.register(fleetCors, { maxAge: 86400 })
  app.get('/r', { config: { cors: { maxAge: 600 } } }, async () => 'ok')
  await app.ready()
  t.equal(lines.length, 1)
  const warning = JSON.parse(lines[0] as string)
  t.equal(warning.code, 'FST_FLEET_CORS_MAX_AGE_CAPPED')
  t.equal(warning.msg, "fastify-fleet/cors: options: maxAge 86400 is above Chromium's cap (7200 s) and WebKit's (600 s): those browsers cache preflights for less")
})

test('invalid options fail with FST_FLEET_CORS_INVALID_OPTION and name the option', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['x', /invalid option options: expected an object/],
    [{ origins: ['https://a.example'] }, /invalid option origins: unknown option/],
    [{ origin: 42 }, /invalid option options.origin: expected '\*', a boolean, an origin, a RegExp, a list of those, or a function/],
    [{ origin: [] }, /invalid option options.origin: an empty list allows nobody: use false/],
    [{ credentials: 'yes' }, /invalid option credentials: expected a boolean, got "yes"/],
    [{ methods: 'GET' }, /invalid option methods: expected a list of header or method names/],
    [{ methods: ['GET', 'BAD METHOD'] }, /invalid option methods/],
    [{ allowedHeaders: 'content-type' }, /invalid option allowedHeaders: expected a list/],
    [{ allowedHeaders: ['x-ok', 'bad header'] }, /invalid option allowedHeaders/],
    [{ exposedHeaders: [1] }, /invalid option exposedHeaders/],
    [{ maxAge: -1 }, /invalid option maxAge: expected a whole number of seconds ≥ 0, or null/],
    [{ maxAge: 1.5 }, /invalid option maxAge/],
    [{ maxAge: '600' }, /invalid option maxAge/],
    [{ cacheControl: -5 }, /invalid option cacheControl: expected seconds, a Cache-Control value, or null/],
    [{ cacheControl: '' }, /invalid option cacheControl/],
    [{ cacheControl: 'public\r\nx: y' }, /invalid option cacheControl/],
    [{ cacheControl: true }, /invalid option cacheControl/],
    [{ allowPrivateNetwork: 1 }, /invalid option allowPrivateNetwork: expected a boolean/],
    [{ optionsSuccessStatus: 201 }, /invalid option optionsSuccessStatus: expected one of 200, 204, got 201/],
    [{ strictPreflight: 'no' }, /invalid option strictPreflight: expected a boolean/],
    [{ cache: 5 }, /invalid option cache: expected an object/],
    [{ cache: { max: 0 } }, /invalid option cache.max: expected a number ≥ 1/],
    [{ cache: { allowedTtl: -1 } }, /invalid option cache.allowedTtl: expected a number ≥ 0/],
    [{ cache: { timeout: 0 } }, /invalid option cache.timeout: expected a number from 1 to 2147483647, got 0/],
    [{ cache: { refusedTtl: Infinity } }, /invalid option cache.refusedTtl/],
    [{ cache: { key: 'host' } }, /invalid option cache.key: expected a function \(request\) => string/],
    [{ cache: { invalidation: { publish: () => {} } } }, /invalid option cache.invalidation: expected \{ publish\(origin\), subscribe\(listener\) \}/],
    [{ cache: { invalidation: 'bus' } }, /invalid option cache.invalidation/],
    [{ cache: { clock: {} } }, /invalid option cache.clock: expected \{ now\(\) \}/]
  ]
  for (const [opts, message] of cases) {
    await t.rejects(register(opts), { code: 'FST_FLEET_CORS_INVALID_OPTION', message }, JSON.stringify(opts))
  }
  t.throws(() => normalizeOptions(null), { code: 'FST_FLEET_CORS_INVALID_OPTION' }, 'direct callers: not an object')
})

test('route policies are checked when the route is declared', async (t) => {
  const app = fastify()
  await app.register(fleetCors, { origin: 'https://a.example', credentials: true })
  t.throws(() => app.get('/a', { config: { cors: { origin: '*' } } }, async () => 'ok'), {
    code: 'FST_FLEET_CORS_CREDENTIALS_WILDCARD',
    message: /config.cors of GET \/a: credentials: true cannot be combined with origin '\*'/
  }, 'the route inherits credentials')
  t.throws(() => app.get('/b', { config: { cors: { strictPreflight: false } as never } }, async () => 'ok'), {
    code: 'FST_FLEET_CORS_INVALID_OPTION',
    message: /invalid option config.cors of GET \/b.strictPreflight: unknown option \(route policies take the policy fields only\)/
  })
  t.throws(() => app.get('/c', { config: { cors: true as never } }, async () => 'ok'), {
    code: 'FST_FLEET_CORS_INVALID_OPTION',
    message: /invalid option config.cors of GET \/c: expected false or an object/
  })
  t.throws(() => app.get('/d', { config: { cors: { maxAge: -2 } } }, async () => 'ok'), {
    code: 'FST_FLEET_CORS_INVALID_OPTION',
    message: /invalid option config.cors of GET \/d.maxAge/
  })
  t.throws(() => routePolicyInput([], 'x'), { code: 'FST_FLEET_CORS_INVALID_OPTION' })
})

test('defaults', async (t) => {
  const { spec, warning } = policySpec({}, 'options')
  t.same(spec, {
    origin: { kind: 'any' },
    methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
    allowedHeaders: 'reflect',
    exposedHeaders: [],
    credentials: false,
    maxAge: 7200,
    cacheControl: null,
    allowPrivateNetwork: false,
    optionsSuccessStatus: 204
  })
  t.equal(warning, null)
  const opts = normalizeOptions({})
  t.same({ ...opts.cache, clock: undefined }, { max: 1000, allowedTtl: 300, refusedTtl: 30, errorTtl: 1, timeout: 2000, preflightMax: 1000, key: null, invalidation: null, clock: undefined })
  t.equal(opts.cache.clock, performance)
  t.equal(opts.strictPreflight, true)
  const input = Object.freeze({ origin: Object.freeze(['https://a.example']), credentials: true })
  normalizeOptions(input)
  t.same(input, { origin: ['https://a.example'], credentials: true }, 'the caller\'s object is untouched')
})

test('plugin metadata', async (t) => {
  const meta = (fleetCors as unknown as Record<symbol, { name: string, fastify: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta?.name, 'fastify-fleet-cors')
  t.equal(meta?.fastify, '5.x')
})
