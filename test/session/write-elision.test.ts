import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify from 'fastify'
import { test } from 'tap'
import type { SessionRecord, StoreOptions } from '../../plugins/session/index.js'
import { canSkipRefresh, FINGERPRINT_TEXT_MAX, knownExpiry, READ_MEMO_MAX, ReadMemo, type ReadMark } from '../../plugins/session/write-elision.js'
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

test('writes under way: which texts a read may take the expiry of', async (t) => {
  const memo = new ReadMemo()
  const stored = { expires: undefined, originalExpires: undefined }
  const mark = (): ReadMark => memo.recall('s') as ReadMark
  const one = memo.writing('s', undefined, 'one', stored, 1000)
  const two = memo.writing('s', mark(), 'two', stored, 2000)
  t.strictSame([knownExpiry(mark(), 'one'), knownExpiry(mark(), 'two'), mark().fingerprint], [undefined, 2000, ''], 'two under way: only the last one is known')
  memo.wrote(one, true)
  t.strictSame([knownExpiry(mark(), 'one'), knownExpiry(mark(), 'two'), mark().fingerprint], [1000, 2000, ''], 'the first landed: known too, and still no fingerprint')
  memo.wrote(two, true)
  t.strictSame([knownExpiry(mark(), 'one'), knownExpiry(mark(), 'two'), mark().fingerprint], [undefined, 2000, 'two'], 'the last landed: it alone')

  const three = memo.writing('s', mark(), 'three', stored, 3000)
  const four = memo.writing('s', mark(), 'four', stored, 4000)
  memo.wrote(four, false)
  t.strictSame([knownExpiry(mark(), 'three'), knownExpiry(mark(), 'four'), knownExpiry(mark(), 'two'), mark().fingerprint], [undefined, undefined, undefined, ''], 'the last one failed: nothing is known')
  memo.wrote(three, true)
  t.strictSame([knownExpiry(mark(), 'three'), mark().fingerprint], [3000, ''], 'an earlier one landed after it: its text is known, elision still waits')
  memo.remember('s', 'five', stored, 5000)
  t.strictSame([knownExpiry(mark(), 'five'), knownExpiry(mark(), 'three')], [5000, 3000], 'read since: the text read')
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

test('reading the same text again gives a fresh copy of its first parse; a new text is parsed', async (t) => {
  const { store, now } = setup()
  await store.set('a', { cookie: cookie(now()), user: 'ada', prefs: { theme: 'dark', tags: ['x'] } })
  const first = await store.get('a') as SessionRecord & { prefs: { theme: string, tags: string[] } }
  const second = await store.get('a') as typeof first
  t.strictSame(second, first, 'the same record')
  t.not(second, first)
  t.not(second.prefs, first.prefs, 'nested objects are not shared')
  t.not(second.cookie, first.cookie)
  first.prefs.tags.push('changed by a request')
  first.prefs.theme = 'light'
  first.user = 'eve'
  const third = await store.get('a') as typeof first
  t.strictSame(third.prefs, { theme: 'dark', tags: ['x'] }, 'what a request did to a record it got reaches no other read')
  t.equal(third.user, 'ada')

  // another process replaced the text: what is read is parsed, and a rolled set of it is written
  const entry = store.entries.get('a')!
  entry.text = entry.text.replace('"ada"', '"bob"')
  const fourth = await store.get('a')
  t.equal(fourth?.user, 'bob', 'the new text is what is read')
  t.equal((await store.get('a'))?.user, 'bob', 'and again from its own parse')
  store.takeCalls()
  await store.set('a', { ...rolled(fourth, now()), user: 'carl' })
  t.strictSame(store.takeCalls(), ['write'], 'a change is written')
  t.equal((await store.get('a'))?.user, 'carl', 'a write is read back, not an older parse')
})

test('a rolled session compared with the kept parse: unchanged data is not written, a change is, a value it cannot judge is compared as text', async (t) => {
  const { store, advance, now } = setup()
  const login = new Date(Date.UTC(2029, 11, 1))
  await store.set('a', { cookie: cookie(now()), user: 'ada', login, cart: { items: [1, 2] } })
  await store.get('a')
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
  t.strictSame(store.takeCalls(), ['read'], 'a value with its own toJSON is compared as text: unchanged, not written')
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

  // an integer-like key: JSON.stringify puts it before the cookie, the text comparison after
  await store.set('b', { cookie: cookie(now()), 7: 'seven', user: 'ada' })
  const written = store.entries.get('b')?.text
  t.match(written, /^\{"7":"seven","cookie":/)
  await store.get('b')
  got = await store.get('b')
  store.takeCalls()
  await store.set('b', { ...rolled(got, now()), 7: 'seven', user: 'ada' })
  t.strictSame(store.takeCalls(), [], 'read twice, compared field by field: the same data in another order is not written')
  t.equal(store.entries.get('b')?.text, written)
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

test('a changed rolling session (default JSON): what is written is the JSON of the session, read back as it was', async (t) => {
  const { store, now } = setup()
  const write = async (session: Record<string, unknown>): Promise<string | undefined> => {
    await store.set('a', { cookie: cookie(now()), ...session })
    const got = await store.get('a')
    const next = { ...rolled(got, now()), ...session, changed: true }
    store.takeCalls()
    await store.set('a', next)
    t.strictSame(store.takeCalls(), ['write'])
    const { originalExpires, ...stored } = next.cookie as Record<string, unknown>
    return JSON.stringify({ cookie: { ...stored, originalExpires }, ...session, changed: true })
  }
  const fields = { user: 'ada', nested: { list: [1, 'two', null], quote: 'say "hi"\n' }, gone: undefined }
  t.equal(store.entries.get('a')?.text, undefined)
  t.equal(await write(fields), store.entries.get('a')?.text, 'fields after the cookie, as JSON.stringify writes them')
  const got = await store.get('a')
  t.strictSame(got, JSON.parse(store.entries.get('a')?.text as string), 'it reads back as written')
  t.equal(await write({}), store.entries.get('a')?.text, 'a session with no field but its cookie and the change')

  // an integer-like key: JSON.stringify puts it before the cookie, the store after; same data
  await store.set('b', { cookie: cookie(now()), 7: 'seven', user: 'ada' })
  t.match(store.entries.get('b')?.text, /^\{"7":"seven","cookie":/, 'a first write is JSON.stringify\'s')
  let read = await store.get('b')
  store.takeCalls()
  await store.set('b', { ...rolled(read, now()), 7: 'seven', user: 'ada' })
  t.strictSame(store.takeCalls(), ['write'], 'unchanged, but ordered differently: written once')
  t.match(store.entries.get('b')?.text, /^\{"cookie":.*,"7":"seven","user":"ada"\}$/)
  read = await store.get('b')
  t.equal(read?.[7], 'seven')
  await store.set('b', { ...rolled(read, now()), 7: 'seven', user: 'ada' })
  t.strictSame(store.takeCalls(), ['read'], 'then elided as usual')

  read = await store.get('a')
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

test('the memory of reads is bounded: the oldest are forgotten', async (t) => {
  const { store, now } = setup()
  const sids = Array.from({ length: READ_MEMO_MAX + 1 }, (_, i) => `s${i}`)
  for (const sid of sids) store.entries.set(sid, { text: JSON.stringify({ cookie: cookie(now()), sid }), expiresAt: now() + HOUR })
  const got = []
  for (const sid of sids) got.push(await store.get(sid))
  store.takeCalls()
  // s1 first: the write of s0 is remembered in its turn, which would push s1 out
  await store.set('s1', rolled(got[1] ?? null, now()))
  await store.set('s0', rolled(got[0] ?? null, now()))
  t.strictSame(store.takeCalls(), ['write'], `after ${READ_MEMO_MAX + 1} reads the first is forgotten, the second not`)
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
