// The circuit breaker, the read policy, stats() and health() of every store, on a backend whose
// faults switch on and off, with a fake clock.
import { test } from 'tap'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { CircuitBreaker, type BreakerState } from '../../plugins/session/circuit-breaker.js'
import { MemoryStore } from '../../plugins/session/index.js'
import { MapStore } from '../helpers/session-stores.js'

const cookie = (now: number): Record<string, unknown> => ({ expires: new Date(now + 3_600_000), originalMaxAge: 3_600_000 })

test('the breaker state machine', async (t) => {
  let now = 0
  const changes: Array<[BreakerState, BreakerState]> = []
  const breaker = new CircuitBreaker({ failures: 3, windowMs: 1000, cooldownMs: 500 }, () => now, (state, previous) => changes.push([state, previous]))
  breaker.failed()
  now = 600
  breaker.failed()
  now = 1200
  breaker.failed()
  t.equal(breaker.state, 'closed', 'three failures, but not within one window')
  now = 1300
  breaker.failed()
  t.equal(breaker.state, 'open', 'three within a second')
  t.notOk(breaker.admits(), 'refuses during the cooldown')
  breaker.failed()
  t.equal(breaker.state, 'open', 'a late failure of a call admitted before changes nothing')
  now = 1800
  t.ok(breaker.admits(), 'after the cooldown: the probe')
  t.equal(breaker.state, 'half-open')
  t.notOk(breaker.admits(), 'one probe at a time')
  breaker.succeeded()
  t.equal(breaker.state, 'closed', 'the probe succeeded')
  t.ok(breaker.admits())
  breaker.succeeded()
  for (let i = 0; i < 3; i++) breaker.failed()
  t.equal(breaker.state, 'open', 'the failures before the probe were forgotten: three new ones open it again')
  breaker.succeeded()
  t.equal(breaker.state, 'closed', 'a late success of a call admitted before closes it')
  t.strictSame(changes, [['open', 'closed'], ['half-open', 'open'], ['closed', 'half-open'], ['open', 'closed'], ['closed', 'open']])
})

test('readPolicy miss: an outage reads as no session; other errors still fail', async (t) => {
  let now = Date.now()
  const store = new MapStore({ now: () => now, readPolicy: 'miss', timeout: 20, breaker: { failures: 2, window: 10, cooldown: 1 }, logger: false })
  await store.set('s', { cookie: cookie(now), user: 'ada' })
  store.fault = 'fail'
  t.equal(await store.get('s'), null, 'a failed read: no session')
  store.fault = 'throw'
  t.equal(await store.get('s'), null, 'a synchronous throw: no session')
  t.equal(store.stats().breaker, 'open')
  t.equal(await store.get('s'), null, 'refused by the breaker: no session')
  await t.rejects(store.get(''), { code: 'FST_FLEET_SESSION_INVALID_ID' }, 'an invalid id is still an error')
  await t.rejects(store.set('s', { cookie: cookie(now) }), { code: 'FST_FLEET_SESSION_UNAVAILABLE' }, 'writes still fail')
  store.fault = 'none'
  now += 1000
  t.equal((await store.get('s'))?.user, 'ada', 'after the cooldown, the probe reads the session')
  t.strictSame(store.stats(), { hits: 1, misses: 3, breakerOpened: 1, errors: 2, timeouts: 0, refused: 2, breaker: 'closed' })
})

test('timeouts count and open the breaker too; close is never refused', async (t) => {
  let now = Date.now()
  const logger = recordingLogger()
  const store = new MapStore({ now: () => now, fault: 'hang', timeout: 10, breaker: { failures: 2 }, logger })
  for (let i = 0; i < 2; i++) await t.rejects(store.get('s'), { code: 'FST_FLEET_SESSION_TIMEOUT' })
  await t.rejects(store.get('s'), { code: 'FST_FLEET_SESSION_UNAVAILABLE', statusCode: 503 })
  t.match(store.stats(), { timeouts: 2, refused: 1, breaker: 'open' })
  store.fault = 'none'
  await store.close()
  t.strictSame(store.takeCalls(), ['read', 'read', 'close'], 'close reached the backend while the breaker was open')
  t.match(await store.health(), { ok: false, error: { code: 'FST_FLEET_SESSION_CLOSED' } }, 'a closed store is not healthy')
  now += 5000
  t.strictSame(logger.lines.map((l) => l.msg), ['fastify-fleet/session: the circuit breaker of the store is open (it was closed)'], 'the opening was logged, and nothing else: close does not touch the breaker')
})

test('breaker: false lets every call through; the stats of a store without one', async (t) => {
  const store = new MapStore({ fault: 'fail', breaker: false })
  for (let i = 0; i < 8; i++) await t.rejects(store.get('s'), { code: 'FST_FLEET_SESSION_BACKEND' })
  t.match(store.stats(), { errors: 8, refused: 0, breaker: null })
  t.match(await store.health(), { ok: false, breaker: null, error: { code: 'FST_FLEET_SESSION_BACKEND' } })
  const memory = new MemoryStore()
  t.strictSame(await memory.health(), { ok: true, breaker: 'closed' }, 'a synchronous backend is healthy at once')
  t.strictSame(await new MapStore({ breaker: false }).health(), { ok: true, breaker: null }, 'healthy, without a breaker')
  const missing = new MemoryStore({ readPolicy: 'miss' })
  await missing.set('s', { user: 'ada' })
  t.equal((await missing.get('s'))?.user, 'ada', 'readPolicy miss on a backend that answers at once')
})
