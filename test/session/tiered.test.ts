// TieredStore in one process, over stores in memory and channels in memory (test/helpers/tiered.ts):
// its options, what it serves from its near cache and for how long, what it publishes, the reads
// and writes that overtake each other, the read policies, the signed ids, stats, health and close.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import { BackendStore, ClusterStore, MemoryStore, TieredStore, type SessionBackend, type SessionRecord, type StoredSession, type TieredStoreOptions } from '../../plugins/session/index.js'
import { InvalidationMessages, bounded } from '../../plugins/session/invalidation.js'
import { MapStore } from '../helpers/session-stores.js'
import { FakeBus, fakeClock, until } from '../helpers/tiered.js'

const HOUR = 3_600_000
const cookie = (now: number, maxAge: number | null = HOUR): Record<string, unknown> =>
  ({ expires: maxAge === null ? null : new Date(now + maxAge).toISOString(), originalMaxAge: maxAge, path: '/' })

const invalid = (name: string, reason: string): { code: string, message: string } =>
  ({ code: 'FST_FLEET_SESSION_INVALID_OPTION', message: `fastify-fleet/session: invalid option ${name}: ${reason}` })

test('options are checked with FST_FLEET_SESSION_INVALID_OPTION, the caller\'s object left as it is', async (t) => {
  const store = new MemoryStore()
  const cases: Array<[unknown, string, string]> = [
    [undefined, 'options', 'expected an object, got undefined'],
    [{ store, other: 1 }, 'other', 'unknown option'],
    [{}, 'store', 'expected a store of fastify-fleet/session (RedisStore, PostgresStore, ClusterStore, MemoryStore...)'],
    [{ store: { get () {} } }, 'store', 'expected a store of fastify-fleet/session (RedisStore, PostgresStore, ClusterStore, MemoryStore...)'],
    [{ store, near: 5 }, 'near', 'expected an object, got 5'],
    [{ store, near: { size: 5 } }, 'near.size', 'unknown option'],
    [{ store, near: { max: 0 } }, 'near.max', 'expected a whole number ≥ 1, got 0'],
    [{ store, near: { ttl: 0 } }, 'near.ttl', 'expected a number ≥ 0.001, got 0'],
    [{ store, near: { ttl: 5, maxAge: 4 } }, 'near.maxAge', 'expected a number ≥ 5, got 4'],
    [{ store, invalidation: 'redis' }, 'invalidation', 'expected a boolean or a channel (an object with publish(), subscribe() and close())'],
    [{ store, readPolicy: 'never' }, 'readPolicy', 'expected one of "error", "miss", "stale", got "never"'],
    [{ store, closeStore: 1 }, 'closeStore', 'expected a boolean, got 1'],
    [{ store: new MemoryStore({ readPolicy: 'miss' }), readPolicy: 'stale' }, 'readPolicy',
      "'stale' needs the inner store's readPolicy to be 'error' (with 'miss' it answers no session instead of failing)"],
    [{ store: new MapStore() }, 'invalidation', 'MapStore has no invalidation channel of its own: pass false (copies then live near.ttl) or a channel of yours']
  ]
  for (const [options, name, reason] of cases) {
    t.throws(() => new TieredStore(options as TieredStoreOptions), invalid(name, reason), name)
  }
  const options = { store, near: { ttl: 2 } }
  const tiered = new TieredStore(options)
  t.strictSame(options, { store, near: { ttl: 2 } }, 'the options object is left as it was')
  t.equal(tiered.stats().near.listening, null, 'MemoryStore: one process, no channel')
  t.equal(new TieredStore({ store: new ClusterStore() }).stats().near.listening, null, 'ClusterStore outside a cluster: one process, no channel')
  t.ok(new TieredStore({ store, near: { ttl: 120 } }), 'a ttl above the default maxAge makes maxAge default to it')
})

test('a near hit is a fresh copy; copies live near.ttl without a channel, never past the session\'s expiry', async (t) => {
  const clock = fakeClock()
  const inner = new MapStore({ now: clock.now })
  const store = new TieredStore({ store: inner, invalidation: false })
  await store.set('a', { cookie: cookie(clock.now()), user: { name: 'ada' } })
  inner.takeCalls()
  const first = await store.get('a') as SessionRecord
  const second = await store.get('a') as SessionRecord
  t.strictSame(inner.takeCalls(), [], 'both from the copy the set left')
  t.not(first, second, 'a new object each time')
  ;(first.user as { name: string }).name = 'eve'
  t.equal(((await store.get('a'))?.user as { name: string }).name, 'ada', 'changing what get gave changes no copy')
  clock.advance(999)
  await store.get('a')
  t.strictSame(inner.takeCalls(), [], 'still fresh 999 ms later')
  clock.advance(1)
  t.equal((await store.get('a'))?.user !== undefined, true)
  t.strictSame(inner.takeCalls(), ['read'], 'after near.ttl (1 s): asked again')
  await store.get('a')
  t.strictSame(inner.takeCalls(), [], 'and fresh again')
  t.match(store.stats(), { hits: 1, misses: 0, near: { hits: 5, misses: 1, stale: 0, invalidations: 0, size: 1, listening: null } })

  await store.set('short', { cookie: cookie(clock.now(), 500), user: 'bob' })
  clock.advance(499)
  t.equal((await store.get('short'))?.user, 'bob')
  clock.advance(1)
  t.equal(await store.get('short'), null, 'never served once its cookie expired')
  t.equal(store.stats().near.size, 1, 'and its copy dropped')
})

test('with a channel that listens, copies live near.maxAge; not past near.ttl when it does not, nor for an expiry unknown here', async (t) => {
  const clock = fakeClock()
  const bus = new FakeBus()
  const channel = bus.channel()
  const writer = new MapStore({ now: clock.now })
  const inner = new MapStore({ now: clock.now })
  // two stores over one map: what `writer` writes, `inner` reads (another host)
  Object.defineProperty(inner.backend, 'entries', { value: writer.backend.entries })
  const store = new TieredStore({ store: inner, invalidation: channel, near: { ttl: 1, maxAge: 10 } })
  t.equal(store.stats().near.listening, false, 'not listening until the channel says so')
  await store.set('a', { cookie: cookie(clock.now()), user: 'ada' })
  clock.advance(1000)
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['write', 'read'], 'a copy made before the channel listened lives near.ttl')

  channel.onListening(true)
  t.equal(store.stats().near.listening, true)
  clock.advance(1000)
  await store.get('a')
  clock.advance(9999)
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'a copy read while it listens lives near.maxAge')
  clock.advance(1)
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'then asked again')

  channel.onListening(false)
  clock.advance(1000)
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'the channel down: near.ttl')
  channel.onListening(true)
  clock.advance(999)
  await store.get('a')
  t.strictSame(inner.takeCalls(), [], 'fresh within near.ttl')
  clock.advance(1)
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'a copy from before it listened again is not vouched for: messages may have been lost')

  // a browser-session cookie written by another host: the inner store keeps its expiry to itself
  await writer.set('b', { cookie: cookie(clock.now(), null), user: 'bob' })
  await store.get('b')
  clock.advance(1000)
  await store.get('b')
  t.strictSame(inner.takeCalls(), ['read', 'read'], 'an expiry unknown here: near.ttl, channel or not')
  await store.set('b', { cookie: cookie(clock.now(), null), user: 'bob', n: 1 })
  clock.advance(5000)
  await store.get('b')
  t.strictSame(inner.takeCalls(), ['write'], 'written here: its expiry is known (ttl), near.maxAge')
  clock.advance(5000)
  await store.get('b')
  clock.advance(1000)
  await store.get('b')
  t.strictSame(inner.takeCalls(), ['read'], 'read again: the expiry written here still known')
  await store.close()
})

test('what the others publish drops copies; a set publishes only a change, before it resolves', async (t) => {
  const clock = fakeClock()
  const bus = new FakeBus()
  const shared = new MapStore({ now: clock.now })
  const hostA = new TieredStore({ store: shared, invalidation: bus.channel(), near: { ttl: 60, maxAge: 60 } })
  const other = new MapStore({ now: clock.now })
  Object.defineProperty(other.backend, 'entries', { value: shared.backend.entries })
  const hostB = new TieredStore({ store: other, invalidation: bus.channel(), near: { ttl: 60, maxAge: 60 } })
  const [a, b] = bus.ends as [ReturnType<FakeBus['channel']>, ReturnType<FakeBus['channel']>]

  await hostA.set('s', { cookie: cookie(clock.now()), user: 'ada', views: 1 })
  t.strictSame(a.published, ['s'], 'a new session is published')
  t.equal((await hostB.get('s'))?.views, 1)
  const read = await hostA.get('s') as SessionRecord
  const rolled = { ...read, cookie: { ...read.cookie, expires: new Date(clock.now() + 2 * HOUR), originalExpires: read.cookie?.expires } }
  await hostA.set('s', rolled)
  t.strictSame(a.published, ['s'], 'a rolled session (only its expiry moved): nothing published')
  await hostA.set('s', { ...rolled, views: 2 })
  t.strictSame(a.published, ['s', 's'], 'a change is published')
  t.equal((await hostB.get('s'))?.views, 2, 'B dropped its copy: it reads the change')
  t.equal(hostB.stats().near.invalidations, 2)
  t.equal(hostA.stats().near.invalidations, 0, 'nobody hears its own messages')

  await hostA.set('s', { ...rolled, views: 2, cookie: { ...rolled.cookie, expires: new Date(clock.now() + 1000) } })
  t.strictSame(a.published.length, 3, 'an expiry moved earlier is a change')

  bus.hold = true
  const published = hostA.set('s', { ...rolled, views: 3 })
  await published
  t.equal(bus.held.length, 1, 'published before set resolved')
  bus.flush()
  bus.hold = false

  await hostA.destroy('s')
  t.equal(await hostB.get('s'), null, 'a destroy is published')
  await hostA.set('x', { cookie: cookie(clock.now()), user: 'x' })
  await hostB.get('x')
  await hostA.set('x', { cookie: { ...cookie(clock.now()), expires: new Date(clock.now() - 1) } })
  t.equal(await hostB.get('x'), null, 'a set with an expired cookie removes and publishes')
  await hostA.set('y', { cookie: cookie(clock.now()), user: 'y' })
  await hostB.get('y')
  await hostA.touch('y', { cookie: { ...cookie(clock.now()), expires: new Date(clock.now() - 1) } })
  t.equal(await hostB.get('y'), null, 'a touch with an expired cookie too')
  await hostA.set('z', { cookie: cookie(clock.now()), user: 'z' })
  await hostA.touch('z', { cookie: cookie(clock.now(), 2 * HOUR) })
  t.equal(b.published.length, 0)
  t.equal(a.published.at(-1), 'z', 'a touch that keeps it alive publishes nothing')
  await hostB.get('z')
  await hostA.clear()
  t.strictSame(a.published.at(-1), null, 'clear publishes every session')
  t.equal(hostB.stats().near.size, 0, 'B dropped every copy')
  b.onInvalidate(null)
  t.equal(hostA.stats().near.invalidations, 0)
  await hostA.close()
  await hostB.close()
  t.equal(a.closed, false, 'a channel given is left open')
})

test('a failed publish fails the set and the destroy; a failed destroy is still published', async (t) => {
  const bus = new FakeBus()
  const channel = bus.channel()
  const inner = new MapStore()
  const store = new TieredStore({ store: inner, invalidation: channel })
  channel.publishError = new Error('publish lost')
  await t.rejects(store.set('a', { user: 'ada' }), { message: 'publish lost' })
  await t.rejects(store.destroy('a'), { message: 'publish lost' })
  channel.publishError = null
  inner.failOn.add('remove')
  await t.rejects(store.destroy('a'), { code: 'FST_FLEET_SESSION_BACKEND' })
  t.strictSame(channel.published, ['a'], 'published all the same: it may have landed')
  channel.publishError = new Error('publish lost')
  await t.rejects(store.destroy('a'), { code: 'FST_FLEET_SESSION_BACKEND' }, 'the store\'s error, not the publish\'s')
  inner.failOn.clear()
  inner.failOn.add('write')
  await t.rejects(store.set('b', { user: 'bob' }), { code: 'FST_FLEET_SESSION_BACKEND' })
  t.equal(store.stats().near.size, 0, 'a failed write leaves no copy')
})

/** A store whose reads and writes wait until the test lets them answer. */
function gatedStore (): { store: BackendStore, gates: Array<() => void>, entries: Map<string, StoredSession> } {
  const entries = new Map<string, StoredSession>()
  const gates: Array<() => void> = []
  const gated = <T>(fn: () => T): Promise<T> => new Promise((resolve) => { gates.push(() => { resolve(fn()) }) })
  const backend: SessionBackend = {
    read: (sid) => { const entry = entries.get(sid); return gated(() => entry ?? null) },
    write: (sid, text, expiresAt) => gated(() => { entries.set(sid, { text, expiresAt }) }),
    refresh: () => true,
    remove: (sid) => gated(() => { entries.delete(sid) }),
    ids: () => [...entries.keys()],
    clear: () => { entries.clear() },
    close: () => {}
  }
  return { store: new BackendStore(backend, { writeElision: false }), gates, entries }
}

test('a read overtaken by a write, a destroy, an invalidation or a clear leaves no old copy behind', async (t) => {
  const bus = new FakeBus()
  const { store: inner, gates, entries } = gatedStore()
  const channel = bus.channel()
  const store = new TieredStore({ store: inner, invalidation: channel, near: { ttl: 60 } })
  const open = async (): Promise<void> => {
    await until(() => gates.length > 0, 'a call of the store')
    ;(gates.shift() as () => void)()
  }
  entries.set('a', { text: '{"v":1}', expiresAt: Date.now() + HOUR })

  const reading = store.get('a')
  const writing = store.set('a', { v: 2 })
  await open()
  t.equal((await reading)?.v, 1, 'the read answers what it read')
  await open()
  await writing
  t.equal((await store.get('a'))?.v, 2, 'the write\'s copy stays: the read did not keep its old answer')

  store.destroy('b').catch(() => {})
  await open()

  await store.clear()
  entries.set('c', { text: '{"v":1}', expiresAt: Date.now() + HOUR })
  const invalidated = store.get('c')
  channel.onInvalidate('c')
  await open()
  t.equal((await invalidated)?.v, 1)
  t.equal(store.stats().near.size, 0, 'invalidated while read: not kept')

  const readFirst = store.get('c')
  const destroyFirst = store.destroy('c')
  await open()
  t.equal((await readFirst)?.v, 1)
  await open()
  await destroyFirst
  t.equal(store.stats().near.size, 0, 'read when a destroy came: not kept')
  entries.set('c', { text: '{"v":1}', expiresAt: Date.now() + HOUR })
  const destroying = store.destroy('c')
  const destroyed = store.get('c')
  ;(gates.pop() as () => void)()
  t.equal((await destroyed)?.v, 1)
  t.equal(store.stats().near.size, 1, 'read while a destroy is under way, answered first: kept until it lands')
  await open()
  await destroying
  t.equal(store.stats().near.size, 0, 'and dropped once it did')

  entries.set('c', { text: '{"v":1}', expiresAt: Date.now() + HOUR })
  const cleared = store.get('c')
  await store.clear()
  await open()
  t.equal((await cleared)?.v, 1)
  t.equal(store.stats().near.size, 0, 'read while cleared: not kept')

  const w1 = store.set('d', { v: 1 })
  const w2 = store.set('d', { v: 2 })
  ;(gates.pop() as () => void)()
  await w2
  await open()
  await w1
  t.equal(store.stats().near.size, 0, 'two writes at once, the last one started answering first: which landed last is unknown, no copy')
  const w3 = store.set('d', { v: 3 })
  const w4 = store.set('d', { v: 4 })
  await open()
  await w3
  await open()
  await w4
  t.equal((await store.get('d'))?.v, 4, 'answering in the order they started: the last one\'s copy')

  await store.clear()
  entries.set('e', { text: '{"v":1}', expiresAt: Date.now() + HOUR })
  const [r1, r2] = [store.get('e'), store.get('e')]
  await open()
  await open()
  t.strictSame([(await r1)?.v, (await r2)?.v], [1, 1])
  t.equal(store.stats().near.size, 1, 'two reads at once: a copy')
  await store.close()
})

test('readPolicy: error, miss, and stale (the copy while the store is down, never past the session\'s expiry)', async (t) => {
  const clock = fakeClock()
  const make = (readPolicy: 'error' | 'miss' | 'stale'): { inner: MapStore, store: TieredStore } => {
    const inner = new MapStore({ now: clock.now, breaker: false })
    return { inner, store: new TieredStore({ store: inner, invalidation: false, readPolicy }) }
  }
  for (const policy of ['error', 'miss', 'stale'] as const) {
    const { inner, store } = make(policy)
    await store.set('a', { cookie: cookie(clock.now(), 10_000), user: 'ada' })
    await store.set('b', { user: 'bob' })
    await inner.set('c', { cookie: cookie(clock.now(), null), user: 'cat' })
    await store.get('c')
    clock.advance(5000)
    inner.fault = 'fail'
    const outcome = async (sid: string): Promise<unknown> => await store.get(sid).then((s) => s?.user ?? null, (err: { code: string }) => err.code)
    const got = [await outcome('a'), await outcome('b'), await outcome('c'), await outcome('none')]
    if (policy === 'error') t.strictSame(got, Array(4).fill('FST_FLEET_SESSION_BACKEND'), 'error: the error')
    if (policy === 'miss') t.strictSame(got, [null, null, null, null], 'miss: no session')
    if (policy === 'stale') {
      t.strictSame(got, ['ada', 'bob', 'FST_FLEET_SESSION_BACKEND', 'FST_FLEET_SESSION_BACKEND'],
        'stale: the copies past near.ttl (its expiry known: from its cookie, or written here), not one whose expiry is unknown here, else the error')
      t.equal(store.stats().near.stale, 2)
      clock.advance(5000)
      t.equal(await outcome('a'), 'FST_FLEET_SESSION_BACKEND', 'never past the session\'s expiry')
      inner.fault = 'none'
      await t.rejects(store.get(''), { code: 'FST_FLEET_SESSION_INVALID_ID' }, 'an error that is not an outage passes')
    }
  }
})

test('with a custom serializer, copies are its text, parsed on every hit', async (t) => {
  const serializer = { stringify: (s: Record<string, unknown>) => JSON.stringify(s), parse: (text: string) => ({ ...JSON.parse(text), parsedBy: 'custom' }) }
  const inner = new MapStore({ serializer })
  const store = new TieredStore({ store: inner, invalidation: false })
  await store.set('a', { user: 'ada' })
  inner.takeCalls()
  t.equal((await store.get('a'))?.parsedBy, 'custom')
  t.strictSame(inner.takeCalls(), [], 'from the copy')
  await store.set('a', { user: 'ada', parsedBy: 'custom' })
  t.strictSame(inner.takeCalls(), ['write'])
  await inner.set('b', { user: 'bob' })
  t.equal((await store.get('b'))?.parsedBy, 'custom', 'read from the store, kept as text')
  t.equal((await store.get('b'))?.user, 'bob')
  await store.set('c', { cookie: 'not an object' })
  t.equal(await store.get('c'), null, 'what the store reads as no session is not kept as a copy')
  const picky = new MapStore({ serializer: { stringify: (s: Record<string, unknown>) => { if (s.bad === true) throw new Error('no'); return JSON.stringify(s) }, parse: JSON.parse } })
  const pickyStore = new TieredStore({ store: picky, invalidation: false })
  // written by someone else: the serializer reads it, and cannot write it back
  picky.entries.set('p', { text: '{"bad":true}', expiresAt: Date.now() + HOUR })
  t.strictSame(await pickyStore.get('p'), { bad: true })
  t.equal(pickyStore.stats().near.size, 0, 'no copy of what the serializer cannot copy')
})

test('sessions that throw or hold what the copy cannot compare: the inner store decides, the copy is dropped', async (t) => {
  const inner = new MapStore()
  const store = new TieredStore({ store: inner, invalidation: false })
  await store.set('a', { user: 'ada' })
  const throwing = { get user () { throw new Error('getter') } }
  await t.rejects(store.set('a', throwing), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' })
  await t.rejects(store.touch('a', throwing), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' })
  inner.takeCalls()
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'the copy was dropped')
  const nested = { user: { get name () { throw new Error('deep getter') } } }
  await t.rejects(store.set('a', { ...nested, cookie: cookie(Date.now()) }), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' })
  const inner2 = new MapStore()
  const store2 = new TieredStore({ store: inner2, invalidation: false })
  await store2.set('b', { cookie: cookie(Date.now()), user: { name: 'bob' } })
  const read = await store2.get('b') as SessionRecord
  await t.rejects(store2.set('b', { ...read, cookie: { ...read.cookie }, user: { get name () { throw new Error('deep getter') } } }), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' })
})

test('invalid ids and sessions reach the inner store, which refuses them; a closed store refuses everything', async (t) => {
  const store = new TieredStore({ store: new MemoryStore() })
  await t.rejects(store.get(''), { code: 'FST_FLEET_SESSION_INVALID_ID' })
  await t.rejects(store.set('', {}), { code: 'FST_FLEET_SESSION_INVALID_ID' })
  await t.rejects(store.set('a', null as never), { code: 'FST_FLEET_SESSION_INVALID_SESSION' })
  await t.rejects(store.destroy(''), { code: 'FST_FLEET_SESSION_INVALID_ID' })
  await t.rejects(store.touch('a', 7 as never), { code: 'FST_FLEET_SESSION_INVALID_SESSION' })
  await store.close()
  for (const call of [() => store.get('a'), () => store.length(), () => store.ids(), () => store.clear()] as Array<() => Promise<unknown>>) {
    await t.rejects(call(), { code: 'FST_FLEET_SESSION_CLOSED' })
  }
})

test('stats and health are the inner store\'s with the near cache\'s counters; close closes what it opened', async (t) => {
  const inner = new MapStore()
  const bus = new FakeBus()
  let made = 0
  const channel = bus.channel()
  Object.assign(inner, { invalidationChannel: () => { made++; return channel } })
  const store = new TieredStore({ store: inner, closeStore: true })
  t.equal(made, 1, 'the inner store\'s own channel')
  await store.set('a', { user: 'ada' })
  await store.get('a')
  t.strictSame(store.stats(), { ...inner.stats(), near: { hits: 1, misses: 0, stale: 0, invalidations: 0, size: 1, listening: false } })
  t.strictSame(await store.health(), await inner.health())
  t.strictSame(await store.ids(), ['a'])
  t.equal(await store.length(), 1)
  await store.close()
  await store.close()
  t.equal(channel.closed, true, 'the channel it opened is closed')
  await t.rejects(inner.get('a'), { code: 'FST_FLEET_SESSION_CLOSED' }, 'closeStore: the inner store too')
  const kept = new MemoryStore()
  await new TieredStore({ store: kept }).close()
  t.equal(await kept.get('a'), null, 'by default the inner store stays open')
})

test('the channel is pinged every near.ttl: a silent one stops vouching, and starts a new epoch when it answers again', async (t) => {
  const clock = fakeClock()
  const bus = new FakeBus()
  const channel = bus.channel()
  const inner = new MapStore({ now: clock.now, timeout: 30 })
  const store = new TieredStore({ store: inner, invalidation: channel, near: { ttl: 0.05, maxAge: 60 } })
  t.equal(channel.pings, 0)
  channel.onListening(true)
  await until(() => channel.pings >= 1, 'a ping')
  await store.set('a', { cookie: cookie(clock.now()), user: 'ada' })
  clock.advance(1000)
  inner.takeCalls()
  await store.get('a')
  t.strictSame(inner.takeCalls(), [], 'vouched for')
  channel.pingAnswer = 'hang'
  await until(() => store.stats().near.listening === false, 'a ping that does not answer')
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'no longer')
  channel.pingAnswer = 'fail'
  const pings = channel.pings
  await until(() => channel.pings > pings + 1, 'failing pings')
  t.equal(store.stats().near.listening, false)
  channel.pingAnswer = 'ok'
  await until(() => store.stats().near.listening === true, 'an answer')
  clock.advance(1000)
  await store.get('a')
  t.strictSame(inner.takeCalls(), ['read'], 'a copy from before the silence is not vouched for')
  channel.onListening(false)
  const quiet = channel.pings
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal(channel.pings, quiet, 'no pings while the channel does not listen')
  await store.close()
})

test('a channel without ping is trusted while it says it listens; a publish is bounded and coded', async (t) => {
  const clock = fakeClock()
  let listening = (_: boolean): void => {}
  const channel = { publish: async () => {}, subscribe: (_: unknown, onListening: (l: boolean) => void) => { listening = onListening }, close: async () => {} }
  const inner = new MapStore({ now: clock.now })
  const store = new TieredStore({ store: inner, invalidation: channel, near: { ttl: 1, maxAge: 60 } })
  listening(true)
  await store.set('a', { cookie: cookie(clock.now()), user: 'ada' })
  clock.advance(30_000)
  inner.takeCalls()
  await store.get('a')
  t.strictSame(inner.takeCalls(), [], 'vouched for, without pings')
  await store.close()
  await t.rejects(bounded('publish', Promise.reject('a string'), 1000), { code: 'FST_FLEET_SESSION_BACKEND', message: 'fastify-fleet/session: publish failed: a string' }) // eslint-disable-line prefer-promise-reject-errors
  await t.rejects(bounded('publish', new Promise(() => {}), 10), { code: 'FST_FLEET_SESSION_TIMEOUT', message: 'fastify-fleet/session: publish did not answer within 10 ms' })
  t.equal(await bounded('publish', Promise.resolve(7), 10), 7)
})

test('the messages of a channel: its own skipped, every session, one session, anything else ignored', async (t) => {
  const one = new InvalidationMessages()
  const other = new InvalidationMessages()
  const heard: Array<string | null> = []
  const hear = (message: string): void => { other.receive(message, (sid) => { heard.push(sid) }) }
  hear(one.encode('abc def'))
  hear(one.encode(null))
  hear(other.encode('mine'))
  hear('not a message of ours')
  hear('')
  t.strictSame(heard, ['abc def', null])
  t.equal(one.origin.length, 16)
})

test('through @fastify/session: near hits carry the signed id, so the cookie is not signed again', async (t) => {
  const inner = new MemoryStore()
  const store = new TieredStore({ store: inner })
  const lent: SessionRecord[] = []
  const spy = new Proxy(store, {
    get (target, prop) {
      if (prop === 'get') {
        return (sid: string, cb: (err: Error | null, s?: SessionRecord | null) => void) => {
          target.get(sid, (err, s) => { if (s != null) lent.push(s); cb(err, s) })
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { store: spy, secret: 'a secret of at least thirty-two characters', cookie: { secure: false, maxAge: HOUR }, saveUninitialized: false })
  app.post('/login', async (req) => { req.session.set('user', 'ada'); return 'ok' })
  app.get('/me', async (req) => ({ user: req.session.get('user') }))
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/login' })
  const sessionCookie = String(login.headers['set-cookie']).split(';')[0] as string
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: '/me', headers: { cookie: sessionCookie } })
    t.strictSame(res.json(), { user: 'ada' })
    t.equal(String(res.headers['set-cookie']).split(';')[0], sessionCookie, 'the same cookie')
  }
  t.equal(store.stats().near.hits, 3, 'every read a near hit')
  const symbols = lent.map((s) => Object.getOwnPropertySymbols(s).map((sym) => sym.description).sort())
  t.strictSame(symbols, Array(3).fill(['encryptedSessionId', 'sessionId']), 'each with the signed id under the Session\'s symbols')
})
