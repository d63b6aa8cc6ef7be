import { test } from 'tap'
import { forTap, storeConformance, type Assert, type SessionStore, type StoreContext } from '../../plugins/session/conformance.js'
import { MemoryStore } from '../../plugins/session/index.js'
import { MapStore } from '../helpers/session-stores.js'

test('MemoryStore passes the conformance suite', async (t) => {
  forTap(t, storeConformance((ctx) => new MemoryStore(ctx)))
})

test('a store with an asynchronous backend passes it, its faults included', async (t) => {
  forTap(t, storeConformance((ctx) => new MapStore(ctx), {
    hangingStore: (ctx) => new MapStore({ ...ctx, fault: 'hang' }),
    failingStore: (ctx) => new MapStore({ ...ctx, fault: 'fail' }),
    ttl: 120,
    largePayloadBytes: 4096
  }))
})

test('with fleet: false, only the contract is checked (what a store of your own runs)', async (t) => {
  const cases = storeConformance((ctx) => new MapStore({ now: ctx.now, ttl: ctx.ttl }), { fleet: false, app: false, largePayloadBytes: 16 })
  t.strictSame(cases.filter((c) => c.skip !== undefined).map((c) => [c.name, c.skip]), [
    ['corrupt stored data reads as no session and is logged', 'checks what fastify-fleet adds to the contract (option fleet)'],
    ['invalid ids and sessions are refused with a coded error, never a synchronous throw', 'checks what fastify-fleet adds to the contract (option fleet)'],
    ['a closed store refuses calls; close is idempotent', 'checks what fastify-fleet adds to the contract (option fleet)'],
    ['a backend that does not answer fails with a timeout', 'needs the hangingStore option'],
    ['a failing backend fails every call with a coded error, never a crash', 'needs the failingStore option'],
    ['a failing backend opens the circuit breaker: calls are refused at once, and a probe goes through after the cooldown', 'checks what fastify-fleet adds to the contract (option fleet)']
  ])
  forTap(t, cases)
})

test('with fleet: false, a failing store only has to answer 5xx', async (t) => {
  const cases = storeConformance((ctx) => new MapStore({ now: ctx.now }), { fleet: false, failingStore: (ctx) => new MapStore({ now: ctx.now, fault: 'fail' }) })
  forTap(t, cases.filter((c) => c.name.startsWith('app: a failing store')))
})

test('without the fault options, the app case that needs them is skipped', async (t) => {
  const cases = storeConformance((ctx) => new MemoryStore(ctx))
  t.strictSame(cases.filter((c) => c.skip !== undefined).map((c) => c.name), [
    'a backend that does not answer fails with a timeout',
    'a failing backend fails every call with a coded error, never a crash',
    'a failing backend opens the circuit breaker: calls are refused at once, and a probe goes through after the cooldown',
    'app: a failing store gives 5xx answers, and the app keeps serving'
  ])
  t.equal(cases.length, 27)
  await cases.find((c) => c.name.startsWith('app: a failing store'))?.run({} as Assert)
})

/** @fastify/session's own MemoryStore with promises: a Map of the live objects, no expiry, no copies. */
class NaiveStore {
  readonly map = new Map<string, unknown>()
  async get (sid: string): Promise<unknown> { return this.map.get(sid) ?? null }
  async set (sid: string, session: unknown): Promise<void> { this.map.set(sid, session) }
  async destroy (sid: string): Promise<void> { this.map.delete(sid) }
  async touch (): Promise<void> {}
  async length (): Promise<number> { return this.map.size }
  async clear (): Promise<void> { this.map.clear() }
  async ids (): Promise<string[]> { return [...this.map.keys()] }
  async close (): Promise<void> {}
}

test('the suite fails a store that keeps live objects and never expires them', async (t) => {
  const cases = storeConformance(() => new NaiveStore() as unknown as SessionStore, { fleet: false, app: false })
  const fleetCases = storeConformance(() => new NaiveStore() as unknown as SessionStore, { app: false })
  const failed = async (name: string, list = cases): Promise<string[]> => {
    const failures: string[] = []
    const assert: Assert = {
      equal: (a, b, m) => { if (!Object.is(a, b)) failures.push(String(m)) },
      deepEqual: (a, b, m) => { if (JSON.stringify(a) !== JSON.stringify(b)) failures.push(String(m)) },
      ok: (v, m) => { if (v !== true) failures.push(String(m)) }
    }
    await list.find((c) => c.name === name)?.run(assert)
    return failures
  }
  t.strictSame(await failed('set then get returns a copy, as JSON, never the object given'), [
    'get returns what was set, as JSON, untouched by later changes to the object given',
    'changing what get returned changes nothing stored'
  ])
  t.strictSame(await failed('a session expires at its cookie expiry (fake clock)'), ['never returned once expired'])
  t.strictSame(await failed('get of an unknown id answers null'), [])
  t.strictSame((await failed('a closed store refuses calls; close is idempotent', fleetCases)).slice(0, 4), [
    'get: rejects with an Error', 'get: error code', 'set: rejects with an Error', 'set: error code'
  ], 'with fleet: true, a store that answers after close fails')
})

test('the factory gets the fake clock and the ttl', async (t) => {
  const seen: StoreContext[] = []
  const [first] = storeConformance((ctx) => { seen.push(ctx); return new MemoryStore(ctx) }, { ttl: 30 })
  await first?.run({ equal: () => {}, deepEqual: () => {}, ok: () => {} })
  t.equal(seen.length, 1)
  t.strictSame(Object.keys(seen[0] ?? {}), ['now', 'ttl'])
  t.equal(seen[0]?.ttl, 30)
  t.ok(Math.abs((seen[0]?.now() ?? 0) - Date.now()) < 60_000, 'the clock starts at the real time')
})
