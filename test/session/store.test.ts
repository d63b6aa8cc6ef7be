import { once } from 'node:events'
import { test } from 'tap'
import { BackendStore, ClusterStore, MemoryStore, RedisStore, type SessionBackend, type StoreOptions } from '../../plugins/session/index.js'
import { sessionRef } from '../../plugins/session/log.js'
import { MapStore } from '../helpers/session-stores.js'

const HOUR = 3_600_000

function clock (start = Date.UTC(2030, 0, 1)): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

function recorder (): { lines: Array<[string, Record<string, unknown>, string]>, warn: (o: object, m: string) => void, error: (o: object, m: string) => void } {
  const lines: Array<[string, Record<string, unknown>, string]> = []
  return {
    lines,
    warn: (o, m) => { lines.push(['warn', o as Record<string, unknown>, m]) },
    error: (o, m) => { lines.push(['error', o as Record<string, unknown>, m]) }
  }
}

/** A store over a backend whose methods are given per test (missing ones answer nothing). */
function hookStore (hooks: Partial<Record<keyof SessionBackend, (...args: any[]) => any>>, options: StoreOptions = {}): BackendStore {
  const none = (): undefined => undefined
  const backend: SessionBackend = {
    read: () => null,
    write: none,
    refresh: () => false,
    remove: none,
    ids: () => [],
    clear: none,
    close: none,
    ...hooks
  }
  return new BackendStore(backend, options)
}

test('a backend may answer synchronously; length counts the ids unless the backend counts', async (t) => {
  const written: unknown[][] = []
  const store = hookStore({ write: (...args) => { written.push(args) }, ids: () => ['a'] }, { now: () => 1000 })
  t.equal(await store.get('a'), null, 'null from read is no session')
  await store.set('a', { user: 'ada' })
  t.strictSame(written, [['a', '{"user":"ada"}', 1000 + 86_400_000, { user: 'ada' }]], 'no cookie: expires after ttl; the backend also gets the record the text serializes')
  t.equal(await store.length(), 1)
  t.strictSame(await store.ids(), ['a'])
  t.equal(await hookStore({ count: () => 7 }).length(), 7, 'count() when the backend has it')
  await store.close()
  await store.close()
  await t.rejects(store.length(), { code: 'FST_FLEET_SESSION_CLOSED', message: 'fastify-fleet/session: length on a closed store' })
})

test('backend errors are coded, with the backend error as cause', async (t) => {
  const boom = new Error('connection reset')
  const cases: Array<[string, () => unknown, string]> = [
    ['a synchronous throw', () => { throw boom }, 'connection reset'],
    ['a rejection', () => Promise.reject(boom), 'connection reset'],
    ['a thrown string', () => { throw 'nope' }, 'nope'], // eslint-disable-line no-throw-literal
    ['a rejection with undefined', () => Promise.reject(undefined), 'undefined'] // eslint-disable-line prefer-promise-reject-errors
  ]
  for (const [label, hook, message] of cases) {
    const store = hookStore({ read: hook, ids: hook })
    const err = await store.get('a').catch((e: unknown) => e) as Error & { code: string }
    t.equal(err.code, 'FST_FLEET_SESSION_BACKEND', label)
    t.equal(err.message, `fastify-fleet/session: get failed: ${message}`, label)
    t.ok(err.cause === boom || typeof err.cause !== 'object', `${label}: cause`)
    await t.rejects(store.length(), { code: 'FST_FLEET_SESSION_BACKEND', message: `fastify-fleet/session: length failed: ${message}` })
  }
  const coded = Object.assign(new Error('own'), { code: 'FST_FLEET_SESSION_TOO_LARGE' })
  await t.rejects(hookStore({ read: () => Promise.reject(coded) }).get('a'), coded, 'a coded error of ours passes as is')
})

test('a backend must have every method of the interface; options must be an object', async (t) => {
  const backend = new MapStore().backend
  t.throws(() => new BackendStore(backend, 'x' as never), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: 'fastify-fleet/session: invalid option options: expected an object, got "x"' })
  t.throws(() => new RedisStore(undefined as never), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: /^fastify-fleet\/session: invalid option client: / })
  for (const backend of [null, {}, { read () {}, write () {}, refresh () {}, remove () {}, ids () {}, clear () {} }]) {
    t.throws(() => new BackendStore(backend as never), {
      code: 'FST_FLEET_SESSION_INVALID_OPTION',
      message: 'fastify-fleet/session: invalid option backend: expected an object with the methods read, write, refresh, remove, ids, clear, close'
    })
  }
})

test('a backend slower than timeout fails with a coded error; the timer goes with the answer', async (t) => {
  const store = new MapStore({ timeout: 30, fault: 'hang' })
  const started = performance.now()
  await t.rejects(store.get('a'), { code: 'FST_FLEET_SESSION_TIMEOUT', message: 'fastify-fleet/session: get did not answer within 30 ms' })
  t.ok(performance.now() - started >= 29, 'after the timeout')
  const fast = new MapStore({ timeout: 60_000 })
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  const pending = fast.set('a', { user: 'ada' })
  t.equal(timers(), before + 1, 'a timer while the call is pending')
  await pending
  t.equal(timers(), before, 'cleared when it answers')
  await t.rejects(new MapStore({ timeout: 60_000, fault: 'fail' }).get('a'), { code: 'FST_FLEET_SESSION_BACKEND' })
  t.equal(timers(), before, 'cleared when it fails')
})

test('the callback style: errors go to the callback; a throwing callback is rethrown, not swallowed', async (t) => {
  const store = new MemoryStore()
  const err = await new Promise((resolve) => store.get('', resolve))
  t.match(err, { code: 'FST_FLEET_SESSION_INVALID_ID', message: 'fastify-fleet/session: get: the session id must be a non-empty string, got an empty string' })
  t.equal((store.set('a', { user: 'ada' }, null as never) as unknown) instanceof Promise, true, 'a null callback means the promise form')

  // take over uncaught exceptions for the one expected here, then give them back to tap
  const listeners = process.rawListeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  t.teardown(() => { for (const l of listeners) process.on('uncaughtException', l as (e: Error) => void) })
  const uncaught = once(process, 'uncaughtException')
  store.get('a', () => { throw new Error('bug in the callback') })
  const [thrown] = await uncaught
  t.equal((thrown as Error).message, 'bug in the callback')
})

test('a session must be an object', async (t) => {
  const store = new MemoryStore()
  await t.rejects(store.set('a', null as never), { code: 'FST_FLEET_SESSION_INVALID_SESSION', message: 'fastify-fleet/session: set: the session must be an object, got null' })
  await t.rejects(store.touch('a', 'x' as never), { code: 'FST_FLEET_SESSION_INVALID_SESSION', message: 'fastify-fleet/session: touch: the session must be an object, got string' })
  await t.rejects(store.destroy(5 as never), { code: 'FST_FLEET_SESSION_INVALID_ID', message: 'fastify-fleet/session: destroy: the session id must be a non-empty string, got number' })
})

test('serialization: the serializer is used both ways; what it throws or returns wrong is coded', async (t) => {
  const c = clock()
  const serializer = { stringify: (s: object) => `v1:${JSON.stringify(s)}`, parse: (text: string) => JSON.parse(text.slice(3)) }
  const store = new MapStore({ serializer, now: c.now })
  await store.set('a', { user: 'ada' })
  t.equal(store.entries.get('a')?.text, 'v1:{"user":"ada"}')
  t.strictSame(await store.get('a'), { user: 'ada' })

  const odd = new MapStore({ serializer: { stringify: () => 42 as unknown as string, parse: JSON.parse } })
  await t.rejects(odd.set('a', {}), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE', message: 'fastify-fleet/session: the session cannot be serialized: the serializer returned number, expected a string' })
  const big = new MemoryStore()
  const err = await big.set('a', { n: 1n }).catch((e: unknown) => e) as Error
  t.match(err, { code: 'FST_FLEET_SESSION_UNSERIALIZABLE', message: 'fastify-fleet/session: the session cannot be serialized: Do not know how to serialize a BigInt' })
  t.ok(err.cause instanceof TypeError, 'cause: the TypeError of JSON.stringify')
})

test('a cookie that is not an object is stored as it is, with the default ttl', async (t) => {
  const c = clock()
  const store = new MapStore({ now: c.now, logger: false })
  await store.set('a', { cookie: null, user: 'ada' })
  t.strictSame(store.entries.get('a'), { text: '{"cookie":null,"user":"ada"}', expiresAt: c.now() + 86_400_000 })
  t.equal(await store.get('a'), null, 'but reads as corrupt: a session cookie must be an object')
})

test('corrupt data is logged with a reference, not the id; the default logger is a process warning', async (t) => {
  const logger = recorder()
  const store = new MapStore({ logger, serializer: { stringify: JSON.stringify, parse: () => { throw 'not text' } } }) // eslint-disable-line no-throw-literal
  await store.set('secret-id', { user: 'ada' })
  t.equal(await store.get('secret-id'), null)
  t.equal(logger.lines.length, 1)
  const [level, obj, msg] = logger.lines[0] as [string, Record<string, unknown>, string]
  t.equal(level, 'warn')
  t.equal(msg, `fastify-fleet/session: stored session ${sessionRef('secret-id')} is unreadable (it does not parse: not text); treated as no session`)
  t.equal(obj.session, sessionRef('secret-id'))
  t.match(obj.err, { code: 'FST_FLEET_SESSION_CORRUPT', cause: 'not text' })
  t.match(sessionRef('secret-id'), /^[0-9a-f]{12}$/)

  const quiet = new MapStore({ logger: false })
  quiet.entries.set('a', { text: '[]', expiresAt: null })
  t.equal(await quiet.get('a'), null, 'logger: false says nothing')

  const plain = new MapStore()
  plain.entries.set('a', { text: '{', expiresAt: null })
  // Node prints warnings from a 'warning' listener of its own: silenced for this one
  const printers = process.rawListeners('warning')
  process.removeAllListeners('warning')
  t.teardown(() => { for (const l of printers) process.on('warning', l as (w: Error) => void) })
  const warning = once(process, 'warning')
  t.equal(await plain.get('a'), null)
  const [w] = await warning
  t.match(w, { code: 'FST_FLEET_SESSION_CORRUPT', message: /^fastify-fleet\/session: stored session [0-9a-f]{12} is unreadable \(it does not parse: / })
})

test('an expired entry is never returned, and is removed in the background', async (t) => {
  const c = clock()
  const logger = recorder()
  const store = new MapStore({ now: c.now, logger })
  store.entries.set('late', { text: '{"user":"ada"}', expiresAt: c.now() })
  t.equal(await store.get('late'), null, 'the backend still had it; its expiry has passed')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(store.entries.has('late'), false, 'removed')

  store.entries.set('late', { text: '{"user":"ada"}', expiresAt: c.now() - 1 })
  store.failOn.add('remove')
  t.equal(await store.get('late'), null)
  await new Promise((resolve) => setImmediate(resolve))
  t.strictSame(logger.lines.map(([level, obj, msg]) => [level, obj.session, msg]), [['error', sessionRef('late'), 'fastify-fleet/session: remove failed: remove: backend down']])

  // a backend that answers synchronously and throws: logged the same way
  const syncLogger = recorder()
  const sync = hookStore({ read: () => ({ text: '{"user":"ada"}', expiresAt: c.now() }), remove: () => { throw new Error('disk gone') } }, { now: c.now, logger: syncLogger })
  t.equal(await sync.get('late'), null)
  t.strictSame(syncLogger.lines.map(([level, obj, msg]) => [level, obj.session, msg]), [['error', sessionRef('late'), 'fastify-fleet/session: remove failed: disk gone']])
})

test('every store calls back after the call has returned, whether its backend answered at once or later', async (t) => {
  const stores = [['MemoryStore', new MemoryStore()], ['ClusterStore outside a cluster (a shared map: promises)', new ClusterStore()], ['a backend of promises', new MapStore()]] as const
  for (const [label, store] of stores) {
    const order: string[] = []
    const done = new Promise<void>((resolve) => {
      store.set('a', { user: 'ada' }, (err) => { order.push(`set ${String(err)}`) })
      order.push('returned')
      store.get('a', (err, session) => { order.push(`get ${String(err)} ${String(session?.user)}`) })
      store.touch('a', { user: 'ada' }, (err) => { order.push(`touch ${String(err)}`) })
      store.destroy('a', (err) => { order.push(`destroy ${String(err)}`) })
      store.get('', (err) => {
        order.push(`invalid ${(err as Error & { code: string }).code}`)
        resolve()
      })
    })
    t.strictSame(order, ['returned'], `${label}: nothing called back before the calls returned`)
    await done
    const answers = ['set null', 'get null ada', 'touch null', 'destroy null', 'invalid FST_FLEET_SESSION_INVALID_ID']
    t.equal(order[0], 'returned', `${label}: then`)
    // a backend of promises answers its calls in the order they settle; one that answers at once, in the order of the calls
    t.strictSame(label === 'MemoryStore' ? order.slice(1) : order.slice(1).sort(), label === 'MemoryStore' ? answers : [...answers].sort(), `${label}: every call answered`)
    t.ok(store.get('a') instanceof Promise, `${label}: without a callback, a promise`)
  }
})

test('a backend that reports no expiry: the stored cookie decides', async (t) => {
  const c = clock()
  const store = new MapStore({ now: c.now, reportsExpiry: false })
  const cookie = { expires: new Date(c.now() + HOUR), originalMaxAge: HOUR }
  await store.set('a', { cookie, user: 'ada' })
  await store.set('b', { cookie: { expires: null, originalMaxAge: null }, user: 'bob' })
  c.advance(HOUR - 1)
  t.equal((await store.get('a'))?.user, 'ada')
  t.equal((await store.get('b'))?.user, 'bob')
  store.takeCalls()
  await store.set('a', { cookie: { ...cookie, expires: new Date(c.now() + HOUR) }, user: 'ada' })
  t.strictSame(store.takeCalls(), ['refresh'], 'unchanged, expiry unknown: refreshed')
  c.advance(1)
  t.equal(await store.get('a'), null, 'the text says it expired: no session, whatever the backend holds')
  c.advance(10 * 86_400_000)
  t.equal((await store.get('b'))?.user, 'bob', 'no expiry anywhere: kept')
})

test('a backend with readText: the text alone for a session whose expiry this process knows; the stored cookie\'s for another text, until it passes', async (t) => {
  const c = clock()
  const start = c.now()
  const store = new MapStore({ now: c.now, readText: true })
  const cookie = (expires: number): Record<string, unknown> => ({ expires: new Date(expires), originalMaxAge: HOUR })
  t.equal(await store.get('a'), null)
  t.strictSame(store.takeCalls(), ['read'], 'nothing known: read')
  await store.set('a', { cookie: cookie(start + HOUR), user: 'ada' })
  store.takeCalls()
  t.equal((await store.get('a'))?.user, 'ada')
  t.strictSame(store.takeCalls(), ['readText'], 'written by this process: its expiry is known, the text alone is read')

  // another process writes another text, and moves its expiry later
  store.entries.set('a', { text: JSON.stringify({ cookie: cookie(start + HOUR), user: 'bob' }), expiresAt: start + 2 * HOUR })
  t.equal((await store.get('a'))?.user, 'bob', 'another text: read with the text alone, its cookie\'s expiry standing for the backend\'s')
  t.strictSame(store.takeCalls(), ['readText'])
  await store.set('a', { cookie: cookie(start + HOUR + 1000), user: 'bob' })
  t.strictSame(store.takeCalls(), [], 'unchanged, within touchAfter of the cookie\'s expiry (at most the backend\'s): nothing written')

  c.advance(HOUR + 1)
  const got = await store.get('a')
  t.strictSame(store.takeCalls(), ['read'], 'the known expiry has passed: read with the expiry')
  t.equal(got?.user, 'bob', 'the backend still holds it: a live session')
  t.equal(got?.cookie?.expires, new Date(start + 2 * HOUR).toISOString(), 'with the backend\'s expiry')

  store.entries.set('a', { text: JSON.stringify({ cookie: cookie(start + HOUR), user: 'carl' }), expiresAt: start + 3 * HOUR })
  t.equal((await store.get('a'))?.user, 'carl', 'another text whose cookie has expired: read again with the expiry')
  t.strictSame(store.takeCalls(), ['readText', 'read'])
  store.entries.delete('a')
  t.equal(await store.get('a'), null, 'gone: no session')
  t.strictSame(store.takeCalls(), ['readText'])
  t.equal(await store.get('a'), null)
  t.strictSame(store.takeCalls(), ['read'], 'and forgotten')
})

test('after a refresh the returned cookie carries the backend expiry', async (t) => {
  const c = clock()
  const store = new MapStore({ now: c.now })
  await store.set('a', { cookie: { expires: new Date(c.now() + HOUR), originalMaxAge: HOUR }, user: 'ada' })
  const text = store.entries.get('a')?.text
  await store.get('a')
  c.advance(HOUR / 2)
  await store.touch('a', { cookie: { expires: new Date(c.now() + HOUR), originalMaxAge: HOUR } })
  t.equal(store.entries.get('a')?.text, text, 'the text was not rewritten')
  t.equal((await store.get('a'))?.cookie?.expires, new Date(c.now() + HOUR).toISOString())
  store.entries.set('a', { text: text as string, expiresAt: c.now() + 1000 })
  t.equal((await store.get('a'))?.cookie?.expires, new Date(Date.UTC(2030, 0, 1) + HOUR).toISOString(), 'an earlier backend expiry leaves the cookie alone')
})

test('touch', async (t) => {
  const c = clock()
  const store = new MapStore({ now: c.now })
  const cookie = (ms: number): Record<string, unknown> => ({ expires: new Date(c.now() + ms), originalMaxAge: ms })
  store.entries.set('a', { text: JSON.stringify({ cookie: cookie(HOUR), user: 'ada' }), expiresAt: c.now() + HOUR })
  await store.touch('a', { cookie: cookie(HOUR) })
  t.strictSame(store.takeCalls(), ['refresh'], 'neither read nor written by this process: refreshed')
  await store.set('a', { cookie: cookie(HOUR), user: 'bob' })
  store.takeCalls()
  await store.touch('a', { cookie: cookie(HOUR) })
  t.strictSame(store.takeCalls(), [], 'written by this process, with this expiry: nothing')
  await store.get('a')
  c.advance(1000)
  await store.touch('a', { cookie: cookie(HOUR) })
  t.strictSame(store.takeCalls(), ['read'], 'read, and less than touchAfter later: nothing')
  c.advance(HOUR / 2)
  store.entries.delete('a')
  await store.touch('a', { cookie: cookie(HOUR) })
  t.strictSame(store.takeCalls(), ['refresh'], 'gone meanwhile: nothing created')
  t.equal(store.entries.has('a'), false)
  await store.set('b', { cookie: cookie(HOUR) })
  await store.touch('b', { cookie: cookie(-1) })
  t.equal(store.entries.has('b'), false, 'touch with an expired cookie removes the session')

  const off = new MapStore({ now: c.now, disableTouch: true })
  await off.set('a', { cookie: cookie(HOUR) })
  off.takeCalls()
  await off.touch('a', { cookie: cookie(2 * HOUR) })
  t.strictSame(off.takeCalls(), [], 'disableTouch: touch does nothing')
})

test('clear forgets what was read; close closes the backend once', async (t) => {
  const c = clock()
  const store = new MapStore({ now: c.now })
  await store.set('a', { cookie: { expires: new Date(c.now() + HOUR), originalMaxAge: HOUR }, user: 'ada' })
  await store.get('a')
  await store.clear()
  store.takeCalls()
  await store.set('a', { cookie: { expires: new Date(c.now() + HOUR), originalMaxAge: HOUR }, user: 'ada' })
  t.strictSame(store.takeCalls(), ['write'], 'nothing remembered after clear: written')
  await store.close()
  await store.close()
  t.strictSame(store.takeCalls(), ['close'])
})
