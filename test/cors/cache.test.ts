import fastify, { type FastifyInstance } from 'fastify'
import { test } from 'tap'
import { fleetCors, type FleetCorsOptions } from '../../plugins/cors/index.js'

const APP = 'https://app.example.com'
const EVIL = 'https://evil.example.net'

/** A clock the test moves by hand (milliseconds). */
function fakeClock (): { now: () => number, advance: (seconds: number) => void } {
  let ms = 1_000_000
  return { now: () => ms, advance: (seconds) => { ms += seconds * 1000 } }
}

async function build (opts: FleetCorsOptions): Promise<FastifyInstance> {
  const app = fastify()
  await app.register(fleetCors, opts)
  app.get('/items', async () => 'items')
  app.put('/items', async () => 'put')
  await app.ready()
  return app
}

const allowOrigin = async (app: FastifyInstance, origin: string, url = '/items'): Promise<unknown> =>
  (await app.inject({ url, headers: { origin } })).headers['access-control-allow-origin']

const preflightStatus = async (app: FastifyInstance, origin: string, extra: Record<string, string> = {}): Promise<number> =>
  (await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin, 'access-control-request-method': 'PUT', ...extra } })).statusCode

test('origin-function answers are cached with separate TTLs for allowed and refused origins', async (t) => {
  const clock = fakeClock()
  const calls: string[] = []
  const app = await build({
    origin: async (origin) => { calls.push(origin); return origin === APP },
    credentials: true,
    cache: { allowedTtl: 60, refusedTtl: 10, clock }
  })
  t.equal(await allowOrigin(app, APP), APP)
  t.equal(await allowOrigin(app, APP), APP)
  t.equal(await allowOrigin(app, EVIL), undefined)
  t.equal(await allowOrigin(app, EVIL), undefined)
  t.same(calls, [APP, EVIL], 'one call per origin')
  t.same(app.corsCache.stats(), { hits: 2, misses: 2, size: 2, preflight: { hits: 0, misses: 0, size: 0 } })

  clock.advance(11)
  await allowOrigin(app, EVIL)
  await allowOrigin(app, APP)
  t.same(calls, [APP, EVIL, EVIL], 'the refusal expired after 10 s, the allowance did not')
  clock.advance(50)
  await allowOrigin(app, APP)
  t.same(calls, [APP, EVIL, EVIL, APP], 'the allowance expired after 60 s')
})

test('concurrent lookups of one origin share one call', async (t) => {
  let calls = 0
  let release: (allowed: boolean) => void = () => {}
  const app = await build({
    origin: async () => { calls++; return await new Promise<boolean>((resolve) => { release = resolve }) },
    cache: { clock: fakeClock() }
  })
  const pending = Promise.all(Array.from({ length: 5 }, async () => await allowOrigin(app, APP)))
  await new Promise((resolve) => setImmediate(resolve))
  release(true)
  t.same(await pending, [APP, APP, APP, APP, APP])
  t.equal(calls, 1)
  t.same(app.corsCache.stats(), { hits: 4, misses: 1, size: 1, preflight: { hits: 0, misses: 0, size: 0 } })
})

test('a resolver that throws or times out refuses, and is not cached for long', async (t) => {
  const clock = fakeClock()
  let mode: 'throw' | 'sync-throw' | 'hang' | 'ok' = 'throw'
  let calls = 0
  const app = await build({
    origin: (origin) => {
      calls++
      if (mode === 'sync-throw') throw new Error('bad')
      if (mode === 'throw') return Promise.reject(new Error('db down'))
      if (mode === 'hang') return new Promise<boolean>(() => {})
      return origin === APP
    },
    cache: { errorTtl: 1, timeout: 20, clock }
  })
  t.equal(await allowOrigin(app, APP), undefined, 'a rejected lookup refuses')
  t.equal(await allowOrigin(app, APP), undefined, 'cached briefly')
  t.equal(calls, 1)
  clock.advance(2)
  mode = 'hang'
  t.equal(await allowOrigin(app, APP), undefined, 'a lookup that never answers refuses after the timeout')
  t.equal(calls, 2)
  clock.advance(2)
  mode = 'sync-throw'
  t.equal(await allowOrigin(app, APP), undefined, 'a synchronous throw refuses')
  clock.advance(2)
  mode = 'ok'
  t.equal(await allowOrigin(app, APP), APP, 'and the origin is allowed again once the resolver works')
  t.equal(calls, 4)

  const uncached = await build({ origin: () => { calls++; throw new Error('x') }, cache: { errorTtl: 0, clock } })
  await allowOrigin(uncached, APP)
  await allowOrigin(uncached, APP)
  t.equal(calls, 6, 'errorTtl: 0 caches no failure')
})

test('answers of the function: true, false, "*", the origin itself, another string', async (t) => {
  const answers: Record<string, boolean | string> = {
    'https://a.example': true,
    'https://b.example': false,
    'https://c.example': '*',
    'https://d.example': 'https://d.example',
    'https://e.example': 'https://other.example'
  }
  const app = await build({ origin: (origin) => answers[origin] ?? false })
  t.equal(await allowOrigin(app, 'https://a.example'), 'https://a.example')
  t.equal(await allowOrigin(app, 'https://b.example'), undefined)
  t.equal(await allowOrigin(app, 'https://c.example'), '*')
  t.equal(await allowOrigin(app, 'https://d.example'), 'https://d.example')
  t.equal(await allowOrigin(app, 'https://e.example'), undefined)
  const credentialed = await build({ origin: () => '*', credentials: true })
  t.equal(await allowOrigin(credentialed, 'https://c.example'), undefined, '"*" is a refusal with credentials')
  let seen = 0
  const guarded = await build({ origin: () => { seen++; return true } })
  t.equal(await allowOrigin(guarded, 'https://a.example/evil'), undefined)
  t.equal(seen, 0, 'a malformed Origin never reaches the function')
  t.equal(await allowOrigin(guarded, 'null'), 'null', 'the function decides about null')
})

test('the LRU is bounded', async (t) => {
  const app = await build({ origin: () => true, cache: { max: 3, clock: fakeClock() } })
  for (const n of [1, 2, 3, 4, 5]) await allowOrigin(app, `https://o${n}.example`)
  t.equal(app.corsCache.stats().size, 3)
  await allowOrigin(app, 'https://o1.example')
  t.equal(app.corsCache.stats().misses, 6, 'the oldest was evicted')
})

test('whole preflight answers are cached per policy, origin, method and headers', async (t) => {
  const clock = fakeClock()
  let calls = 0
  const app = await build({ origin: async (origin) => { calls++; return origin === APP }, cache: { allowedTtl: 60, refusedTtl: 10, clock } })
  t.equal(await preflightStatus(app, APP), 204)
  t.equal(await preflightStatus(app, APP), 204)
  t.equal(await preflightStatus(app, APP, { 'access-control-request-headers': 'x-a' }), 204)
  t.equal(calls, 1)
  t.same(app.corsCache.stats().preflight, { hits: 1, misses: 2, size: 2 })
  t.equal(await preflightStatus(app, EVIL), 403)
  t.equal(await preflightStatus(app, EVIL), 403)
  t.same(app.corsCache.stats().preflight, { hits: 1, misses: 4, size: 2 }, 'refusals of a function are not cached here')
  t.equal(calls, 2, 'but the decision cache keeps them')
  clock.advance(61)
  t.equal(await preflightStatus(app, APP), 204)
  t.equal(calls, 3, 'both expire with allowedTtl')

  const stat = await build({ origin: [APP], cache: { clock, preflightMax: 2 } })
  await preflightStatus(stat, EVIL)
  await preflightStatus(stat, EVIL)
  t.same(stat.corsCache.stats().preflight, { hits: 1, misses: 1, size: 1 }, 'static refusals are cached too')
  for (const m of ['GET', 'PUT', 'POST']) await stat.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP, 'access-control-request-method': m } })
  t.equal(stat.corsCache.stats().preflight.size, 2, 'bounded by preflightMax')
})

test('invalidate(origin) and invalidate() forget decisions and preflight answers, and are broadcast', async (t) => {
  const published: Array<string | undefined> = []
  let remote: (origin: string | undefined) => void = () => {}
  const allowed = new Set([APP, 'https://b.example'])
  const app = await build({
    origin: (origin) => allowed.has(origin),
    cache: {
      clock: fakeClock(),
      invalidation: { publish: (origin) => published.push(origin), subscribe: (listener) => { remote = listener } }
    }
  })
  await preflightStatus(app, APP)
  await allowOrigin(app, 'https://b.example')
  t.same(app.corsCache.stats(), { hits: 0, misses: 2, size: 2, preflight: { hits: 0, misses: 1, size: 1 } })
  allowed.delete(APP)
  app.corsCache.invalidate(APP)
  t.same(published, [APP])
  t.equal(app.corsCache.stats().size, 1)
  t.equal(app.corsCache.stats().preflight.size, 0)
  t.equal(await preflightStatus(app, APP), 403, 'the new allowlist holds at once')
  remote(undefined)
  t.same(published, [APP], 'a remote invalidation is not published again')
  t.equal(app.corsCache.stats().size, 0)
  app.corsCache.invalidate()
  t.same(published, [APP, undefined])
})

test('cache.key adds the request to the decision key; a key function that throws refuses', async (t) => {
  const calls: string[] = []
  const app = await build({
    origin: (origin, request) => { calls.push(`${origin} ${request.host}`); return request.host === 'tenant-a.example' },
    cache: {
      clock: fakeClock(),
      key: (request) => {
        if (request.host === 'broken') throw new Error('no tenant')
        return request.host
      }
    }
  })
  const get = async (host: string): Promise<unknown> => (await app.inject({ url: '/items', headers: { origin: APP, host } })).headers['access-control-allow-origin']
  t.equal(await get('tenant-a.example'), APP)
  t.equal(await get('tenant-b.example'), undefined)
  t.equal(await get('tenant-a.example'), APP)
  t.same(calls, [`${APP} tenant-a.example`, `${APP} tenant-b.example`])
  t.equal(await get('broken'), undefined)
  const pre = async (host: string): Promise<number> => (await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP, host, 'access-control-request-method': 'PUT' } })).statusCode
  t.equal(await pre('tenant-a.example'), 204)
  t.equal(await pre('tenant-b.example'), 403)
  t.equal(await pre('broken'), 403)
})
