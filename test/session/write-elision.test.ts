import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify from 'fastify'
import { test } from 'tap'
import type { SessionRecord, StoreOptions } from '../../plugins/session/index.js'
import { canSkipRefresh, FINGERPRINT_TEXT_MAX, WriteElision } from '../../plugins/session/write-elision.js'
import { MapStore } from '../helpers/session-stores.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

function setup (options: StoreOptions = {}): { store: MapStore, advance: (ms: number) => void, now: () => number } {
  let time = Date.UTC(2030, 0, 1)
  const now = (): number => time
  return { store: new MapStore({ now, ...options }), advance: (ms) => { time += ms }, now }
}

/** What @fastify/session sets with `rolling` after reading `got`: the same data, the cookie's expiry moved on. */
const rolled = (got: SessionRecord | null, now: number, maxAge = HOUR): SessionRecord =>
  ({ ...got, cookie: { ...got?.cookie, expires: new Date(now + maxAge), originalExpires: got?.cookie?.expires } })

const cookie = (now: number, maxAge = HOUR): Record<string, unknown> =>
  ({ expires: new Date(now + maxAge), originalMaxAge: maxAge, sameSite: null, secure: true, path: '/', httpOnly: true, domain: null })

test('canSkipRefresh', async (t) => {
  t.equal(canSkipRefresh(1000, 1000, 0, 60_000), true, 'same expiry')
  t.equal(canSkipRefresh(1000, 999, 0, 60_000), false, 'an earlier expiry is applied')
  t.equal(canSkipRefresh(54_001, MINUTE, 0, 60_000), true, 'a 1-minute session: within a tenth of its lifetime')
  t.equal(canSkipRefresh(54_000, MINUTE, 0, 60_000), false, 'a 1-minute session: the window is capped at 6 s')
  t.equal(canSkipRefresh(HOUR - 59_999, HOUR, 0, 60_000), true, 'a 1-hour session: within touchAfter')
  t.equal(canSkipRefresh(HOUR - 60_000, HOUR, 0, 60_000), false, 'a 1-hour session: touchAfter later')
  t.equal(canSkipRefresh(0, 0, 0, 0), false, 'touchAfter 0 never skips')
})

test('writes under way: the last one decides; a read meanwhile changes nothing', async (t) => {
  const elision = new WriteElision({ maxSessions: 10, touchAfterMs: MINUTE, disableTouch: false, keepParses: false })
  const record = (user: string): SessionRecord => ({ cookie: { expires: 'E', originalExpires: 'O' }, user })
  const one = elision.writing('s', 'one', record('one'), 1000)
  const two = elision.writing('s', 'two', record('two'), 2000)
  t.strictSame([elision.expiryOf('s', 'one'), elision.expiryOf('s', 'two'), elision.state('s')?.phase], [undefined, 2000, 'writing'], 'two under way: the text of the last one is known')
  elision.read('s', 'zero', record('zero'), null, 500)
  t.equal(elision.state('s')?.phase, 'writing', 'a read while a write is under way does not say what the backend holds')
  elision.wrote(one, true)
  t.equal(elision.state('s')?.phase, 'writing', 'the first landed: the last one still decides')
  elision.wrote(two, true)
  t.strictSame(elision.state('s'), { phase: 'stored', text: { fingerprint: 'two', expires: 'E', originalExpires: 'O', expiresAt: 2000 } }, 'the last landed: stored')
  t.equal(elision.knowsExpiry('s', 1999), true)
  t.equal(elision.knowsExpiry('s', 2000), false, 'an expiry that has passed is not known')

  const three = elision.writing('s', 'three', record('three'), 3000)
  const four = elision.writing('s', 'four', record('four'), 4000)
  elision.wrote(four, false)
  t.equal(elision.state('s'), undefined, 'the last one failed: nothing is known')
  elision.wrote(three, true)
  t.equal(elision.state('s'), undefined, 'an earlier one that lands after it changes nothing')
  elision.read('s', 'five', { user: 'no cookie' }, null, null)
  t.strictSame(elision.state('s'), { phase: 'stored', text: { fingerprint: 'five', expires: undefined, originalExpires: undefined, expiresAt: null } }, 'read: stored')
  t.equal(elision.knowsExpiry('s', 0), false, 'no expiry: not known')
  t.equal(elision.expiryOf('t', 'five'), undefined, 'another session: nothing known')
  elision.refreshed('t', 1000)
  t.equal(elision.state('t'), undefined, 'a refresh of a session not remembered remembers nothing')
})

test('the parse of a text is kept once this process read it after reading or writing it, with the default serializer only', async (t) => {
  const options = { maxSessions: 10, touchAfterMs: MINUTE, disableTouch: false, keepParses: true }
  const elision = new WriteElision(options)
  const record = { cookie: { expires: '2030-01-01T00:00:00.000Z' }, user: 'ada' }
  const text = JSON.stringify(record)
  elision.read('r', text, JSON.parse(text), 5, 1000)
  t.equal(elision.parsed('r', text), undefined, 'read once, never seen before: not kept')
  elision.read('r', text, JSON.parse(text), 5, 1000)
  t.strictSame(elision.parsed('r', text), { record, cookieExpires: 5 }, 'read twice: kept')
  const pending = elision.writing('s', text, record, 1000)
  elision.read('s', text, JSON.parse(text), 5, 1000)
  t.equal(elision.parsed('s', text), undefined, 'read while its write is under way: not kept')
  elision.wrote(pending, true)
  elision.read('s', text, JSON.parse(text), 5, 1000)
  const kept = elision.parsed('s', text)
  t.strictSame(kept, { record, cookieExpires: 5 }, 'written, then read: kept')
  elision.read('s', text, JSON.parse(text), 5, 1000)
  t.equal(elision.parsed('s', text), kept, 'the same parse on later reads')
  t.equal(elision.parsed('s', 'another text'), undefined, 'another text: nothing')
  const long = JSON.stringify({ ...record, notes: 'n'.repeat(FINGERPRINT_TEXT_MAX) })
  elision.read('l', long, JSON.parse(long), 5, 1000)
  elision.read('l', long, JSON.parse(long), 5, 1000)
  t.equal(elision.parsed('l', long), undefined, 'a text longer than 512 characters: never kept')
  const custom = new WriteElision({ ...options, keepParses: false })
  custom.read('s', text, JSON.parse(text), 5, 1000)
  custom.read('s', text, JSON.parse(text), 5, 1000)
  t.equal(custom.parsed('s', text), undefined, 'another serializer: never kept')
})

test('an unchanged rolling session: nothing within touchAfter, then only a refresh', async (t) => {
  const { store, advance, now } = setup()
  await store.set('a', { cookie: cookie(now()), user: 'ada' })
  const text = store.entries.get('a')?.text
  store.takeCalls()
  for (const [step, expected] of [[1000, []], [58_000, []], [2000, ['refresh']], [1000, []], [HOUR / 2, ['refresh']]] as Array<[number, string[]]>) {
    advance(step)
    const got = await store.get('a')
    await store.set('a', rolled(got, now()))
    t.strictSame(store.takeCalls(), ['read', ...expected], `${step} ms later`)
  }
  t.equal(store.entries.get('a')?.text, text, 'never rewritten')
  t.equal(store.entries.get('a')?.expiresAt, now() + HOUR, 'expiry of the last refresh')
})

test('every read gives a fresh record: what a request does to one reaches no other', async (t) => {
  const { store, now } = setup()
  await store.set('a', { cookie: cookie(now()), user: 'ada', prefs: { theme: 'dark', tags: ['x'] } })
  const first = await store.get('a') as SessionRecord & { prefs: { theme: string, tags: string[] } }
  const second = await store.get('a') as typeof first
  t.strictSame(second, first, 'the same record')
  t.not(second, first)
  t.not(second.prefs, first.prefs, 'nested objects are not shared')
  first.prefs.tags.push('changed by a request')
  first.user = 'eve'
  const third = await store.get('a') as typeof first
  t.strictSame(third.prefs, { theme: 'dark', tags: ['x'] })
  t.equal(third.user, 'ada')

  // another process replaced the text: what is read is the new text, and a rolled set of it is compared with it
  const entry = store.entries.get('a')!
  entry.text = entry.text.replace('"ada"', '"bob"')
  const fourth = await store.get('a')
  t.equal(fourth?.user, 'bob', 'the new text is what is read')
  store.takeCalls()
  await store.set('a', rolled(fourth, now()))
  t.strictSame(store.takeCalls(), [], 'unchanged since that read: not written')
  await store.set('a', { ...rolled(fourth, now()), user: 'carl' })
  t.strictSame(store.takeCalls(), ['write'], 'a change is written')
  t.equal((await store.get('a'))?.user, 'carl')
})

test('a rolled session is compared as text with the cookie\'s expiry as stored: any change of data is written', async (t) => {
  const { store, advance, now } = setup()
  const login = new Date(Date.UTC(2029, 11, 1))
  await store.set('a', { cookie: cookie(now()), user: 'ada', login, cart: { items: [1, 2] } })
  store.takeCalls()
  advance(1000)
  let got = await store.get('a')
  await store.set('a', { ...rolled(got, now()), login })
  t.strictSame(store.takeCalls(), ['read'], 'the same data (a Date as the text it was stored as): no write, no refresh within touchAfter')
  got = await store.get('a')
  await store.set('a', { ...rolled(got, now()), cart: { items: [1, 2, 3] } })
  t.strictSame(store.takeCalls(), ['read', 'write'], 'a nested change: written')
  t.strictSame((await store.get('a'))?.cart, { items: [1, 2, 3] })
  got = await store.get('a')
  class Tag { toJSON (): string { return 'tag' } }
  await store.set('a', { ...rolled(got, now()), tag: new Tag() })
  t.strictSame(store.takeCalls(), ['read', 'read', 'write'], 'a field added: written')
  got = await store.get('a')
  await store.set('a', { ...rolled(got, now()), tag: new Tag() })
  t.strictSame(store.takeCalls(), ['read'], 'a value with its own toJSON: the same text, not written')
  got = await store.get('a')
  await t.rejects(store.set('a', { ...rolled(got, now()), n: 1n }), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' }, 'what JSON cannot hold still fails, coded')
  got = await store.get('a')
  const getter = { enumerable: true, get: () => { throw new Error('no access') } }
  const throwing = Object.defineProperty({ ...rolled(got, now()) }, 'secret', getter)
  await t.rejects(store.set('a', throwing), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE', message: 'fastify-fleet/session: the session cannot be serialized: no access' }, 'a field whose getter throws fails coded, as JSON.stringify would')
  await t.rejects(store.touch('a', throwing), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' }, 'touch too')
  const nested = { ...rolled(got, now()), cart: Object.defineProperty({}, 'items', getter) }
  await t.rejects(store.set('a', nested), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE', message: 'fastify-fleet/session: the session cannot be serialized: no access' }, 'a nested one, met by the comparison with the kept parse')
  t.equal((await store.get('a'))?.cart !== undefined, true, 'the stored session untouched')

  // an integer-like key: JSON.stringify puts it first, in the stored text and the compared one alike
  await store.set('b', { cookie: cookie(now()), 7: 'seven', user: 'ada' })
  t.match(store.entries.get('b')?.text, /^\{"7":"seven","cookie":/)
  got = await store.get('b')
  store.takeCalls()
  await store.set('b', { ...rolled(got, now()), 7: 'seven', user: 'ada' })
  t.strictSame(store.takeCalls(), [], 'the same data: not written')
})

test('a custom serializer\'s texts are parsed on every read', async (t) => {
  let parses = 0
  const serializer = {
    stringify: (s: Record<string, unknown>) => JSON.stringify(s),
    parse: (text: string) => { parses++; return JSON.parse(text) as unknown }
  }
  const { store, now } = setup({ serializer })
  await store.set('a', { cookie: cookie(now()), user: 'ada' })
  await store.get('a')
  await store.get('a')
  t.equal(parses, 2, 'its parse may give what a copy of JSON cannot hold')
})

test('a session longer than 512 characters is remembered as a hash, with the same effect', async (t) => {
  const { store, advance, now } = setup()
  await store.set('a', { cookie: cookie(now()), notes: 'n'.repeat(FINGERPRINT_TEXT_MAX) })
  store.takeCalls()
  advance(2 * MINUTE)
  let got = await store.get('a')
  await store.set('a', rolled(got, now()))
  t.strictSame(store.takeCalls(), ['read', 'refresh'], 'unchanged: refreshed, not written')
  got = await store.get('a')
  await store.set('a', { ...rolled(got, now()), notes: 'm'.repeat(FINGERPRINT_TEXT_MAX) })
  t.strictSame(store.takeCalls(), ['read', 'write'], 'changed: written')
})

test('what is written', async (t) => {
  const { store, now } = setup()
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 1 })
  let got = await store.get('a')
  store.takeCalls()
  await store.set('a', { ...rolled(got, now()), views: 2 })
  t.strictSame(store.takeCalls(), ['write'], 'changed data')
  await store.set('a', { ...rolled(got, now()), views: 1 })
  t.strictSame(store.takeCalls(), ['write'], 'back to the data read, after a write of other data: written (the mark is what was written)')
  got = await store.get('a')
  await store.set('a', rolled({ ...got, cookie: { ...got?.cookie, sameSite: 'strict' } }, now()))
  t.strictSame(store.takeCalls(), ['read', 'write'], 'a changed cookie attribute')
  got = await store.get('a')
  await store.set('a', rolled({ ...got, cookie: { ...got?.cookie, originalMaxAge: 2 * HOUR } }, now(), 2 * HOUR))
  t.strictSame(store.takeCalls(), ['read', 'write'], 'a changed maxAge')
  got = await store.get('a')
  store.entries.delete('a')
  await store.set('a', rolled(got, now() + HOUR, 2 * HOUR))
  t.strictSame(store.takeCalls(), ['read', 'refresh', 'write'], 'gone since read (another process destroyed or evicted it): written again')
  got = await store.get('a')
  await store.destroy('a')
  await store.set('a', rolled(got, now()))
  t.strictSame(store.takeCalls(), ['read', 'remove', 'write'], 'destroyed by this process: written again')
})

test('a changed rolling session: what is written is the JSON of the session, read back as it was', async (t) => {
  const { store, now } = setup()
  await store.set('a', { cookie: cookie(now()), user: 'ada' })
  const got = await store.get('a')
  const next = { ...rolled(got, now()), nested: { list: [1, 'two', null], quote: 'say "hi"\n' }, gone: undefined }
  store.takeCalls()
  await store.set('a', next)
  t.strictSame(store.takeCalls(), ['write'])
  t.equal(store.entries.get('a')?.text, JSON.stringify(next), 'JSON.stringify of the session')
  t.strictSame(await store.get('a'), JSON.parse(JSON.stringify(next)), 'it reads back as written')
  const read = await store.get('a')
  await t.rejects(store.set('a', { ...rolled(read, now()), big: 1n }), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' }, 'a value JSON cannot hold, after a read')
  t.strictSame(await store.get('a'), read, 'nothing written')
})

test('absolute expiry and browser-session cookies', async (t) => {
  const { store, advance, now } = setup()
  const fixed = { expires: new Date(now() + HOUR), originalMaxAge: null, path: '/' }
  await store.set('fixed', { cookie: fixed, user: 'ada' })
  let got = await store.get('fixed')
  store.takeCalls()
  await store.set('fixed', { ...got })
  t.strictSame(store.takeCalls(), [], 'unchanged: nothing')
  await store.set('fixed', { ...got, cookie: { ...got?.cookie, expires: new Date(now() + 2 * HOUR) } })
  t.strictSame(store.takeCalls(), ['write'], 'an absolute expiry that changes is data: written')

  await store.set('browser', { cookie: { expires: null, originalMaxAge: null }, user: 'bob' })
  got = await store.get('browser')
  store.takeCalls()
  advance(MINUTE - 1)
  await store.set('browser', { ...got })
  t.strictSame(store.takeCalls(), [], 'expiry from ttl, less than touchAfter later: nothing')
  advance(1)
  await store.set('browser', { ...got })
  t.strictSame(store.takeCalls(), ['refresh'], 'touchAfter later: refreshed')
  t.equal(store.entries.get('browser')?.expiresAt, now() + 86_400_000)
})

test('options: touchAfter 0, writeElision false, disableTouch', async (t) => {
  for (const [options, expected] of [
    [{ touchAfter: 0 }, ['read', 'refresh']],
    [{ writeElision: false }, ['read', 'write']],
    [{ disableTouch: true }, ['read']]
  ] as Array<[StoreOptions, string[]]>) {
    const { store, advance, now } = setup(options)
    await store.set('a', { cookie: cookie(now()), user: 'ada' })
    const expiry = store.entries.get('a')?.expiresAt
    store.takeCalls()
    advance(1000)
    await store.set('a', rolled(await store.get('a'), now()))
    t.strictSame(store.takeCalls(), expected, JSON.stringify(options))
    if (options.disableTouch === true) t.equal(store.entries.get('a')?.expiresAt, expiry, 'disableTouch: the expiry of the last write stays')
  }
})

test('what this process wrote is remembered as if read: set again unchanged, it is not written again', async (t) => {
  const { store, advance, now } = setup()
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 1 })
  t.strictSame(store.takeCalls(), ['write'], 'first write')
  advance(1000)
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 1 })
  t.strictSame(store.takeCalls(), [], 'the same data a second later, not read in between: nothing (within touchAfter)')
  advance(2 * MINUTE)
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 1 })
  t.strictSame(store.takeCalls(), ['refresh'], 'two minutes later: only the expiry moves')
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 2 })
  t.strictSame(store.takeCalls(), ['write'], 'changed: written')
  t.equal(store.entries.get('a')?.text.includes('"views":2'), true)

  store.failOn.add('write')
  await t.rejects(store.set('a', { cookie: cookie(now()), user: 'ada', views: 3 }), { code: 'FST_FLEET_SESSION_BACKEND' })
  store.failOn.delete('write')
  store.takeCalls()
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 3 })
  t.strictSame(store.takeCalls(), ['write'], 'after a write that failed, nothing is taken as stored: the same data is written')
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 2 })
  t.strictSame(store.takeCalls(), ['write'], 'the data of the write before the failed one: written (the backend may hold either)')

  await Promise.all([store.set('a', { cookie: cookie(now()), user: 'ada', views: 4 }), store.set('a', { cookie: cookie(now()), user: 'ada', views: 5 })])
  t.strictSame(store.takeCalls(), ['write', 'write'], 'two writes at once')
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 5 })
  t.strictSame(store.takeCalls(), [], 'the data of the later one: nothing (it is what the backend holds)')
  await store.set('a', { cookie: cookie(now()), user: 'ada', views: 4 })
  t.strictSame(store.takeCalls(), ['write'], 'the data of the earlier one: written')
})

test('a serializer whose output varies (e.g. encryption with a random IV) disables elision, safely', async (t) => {
  let n = 0
  const { store, now } = setup({ serializer: { stringify: (s) => JSON.stringify({ n: ++n, s }), parse: (text) => JSON.parse(text).s } })
  await store.set('a', { cookie: cookie(now()), user: 'ada' })
  store.takeCalls()
  await store.set('a', rolled(await store.get('a'), now()))
  t.strictSame(store.takeCalls(), ['read', 'write'])
})

test('the memory of reads is bounded by elisionMemo: the oldest are forgotten', async (t) => {
  const max = 100
  const { store, now } = setup({ elisionMemo: max })
  const sids = Array.from({ length: max + 1 }, (_, i) => `s${i}`)
  for (const sid of sids) store.entries.set(sid, { text: JSON.stringify({ cookie: cookie(now()), sid }), expiresAt: now() + HOUR })
  const got = []
  for (const sid of sids) got.push(await store.get(sid))
  store.takeCalls()
  // s1 first: the write of s0 is remembered in its turn, which would push s1 out
  await store.set('s1', rolled(got[1] ?? null, now()))
  await store.set('s0', rolled(got[0] ?? null, now()))
  t.strictSame(store.takeCalls(), ['write'], `after ${max + 1} reads the first is forgotten, the second not`)
})

test('through @fastify/session with rolling: reads cost no write', async (t) => {
  const store = new MapStore()
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: 'x'.repeat(32), store, cookie: { secure: false, maxAge: HOUR }, saveUninitialized: false })
  app.post('/login', async (request) => {
    await request.session.regenerate()
    request.session.set('user' as never, 'ada' as never)
    return 'ok'
  })
  app.get('/me', async (request) => ({ user: request.session.get('user' as never) }))
  app.post('/visit', async (request) => {
    request.session.set('views' as never, ((request.session.get('views' as never) ?? 0) as number) + 1 as never)
    return 'ok'
  })
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/login' })
  const cookieHeader = { cookie: `sessionId=${login.cookies[0]?.value}` }
  t.strictSame(store.takeCalls(), ['remove', 'write', 'write'], 'login: regenerate (destroy + set), then the set of the user')
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ url: '/me', headers: cookieHeader })
    t.strictSame([res.json(), res.headers['set-cookie'] !== undefined], [{ user: 'ada' }, true], 'logged in, cookie rolled')
  }
  t.strictSame(store.takeCalls(), ['read', 'read', 'read', 'read', 'read'], 'five reads, no write')
  await app.inject({ method: 'POST', url: '/visit', headers: cookieHeader })
  t.strictSame(store.takeCalls(), ['read', 'write'], 'a change is written')
})
