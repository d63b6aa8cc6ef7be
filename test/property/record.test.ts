import fastifyCookie, { Signer } from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify from 'fastify'
import fc from 'fast-check'
import { test } from 'tap'
import { BackendStore, type SessionRecord, type StoreCallback } from '../../plugins/session/index.js'
import { checkRecord } from '../../plugins/session/record.js'
import { MemoryBackend } from '../../plugins/session/stores/memory.js'
import { anyText, holds, polluted } from '../helpers/property.js'
import { MapStore } from '../helpers/session-stores.js'

const HOUR = 3_600_000
const SECRET = 'property-secret-property-secret-!!'
/** Field names with a meaning to JavaScript or to @fastify/session's Session (whose methods a field would shadow). */
const SESSION_METHODS = ['get', 'set', 'save', 'touch', 'regenerate', 'destroy', 'reload', 'options', 'isModified', 'isSaved']
const KEY = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'toJSON', 'valueOf', 'user', 'views', 'sessionId', 'encryptedSessionId', ...SESSION_METHODS),
  fc.string({ maxLength: 8 })
)
const json = fc.jsonValue({ maxDepth: 3 })
/** Cookie fields as a store may hold them: mostly what a server writes, sometimes anything at all. */
const cookieValue = (usual: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 30, arbitrary: usual }, json)
const future = fc.integer({ min: 60_000, max: 400 * 24 * HOUR }).map((ms) => new Date(Date.now() + ms).toISOString())
const COOKIE_FIELDS: Array<[string, fc.Arbitrary<unknown>]> = [
  ['expires', fc.oneof({ weight: 5, arbitrary: future }, fc.constantFrom(null, '+010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', 'Fri, 01 Jan 2100 00:00:00 GMT', 'soon'))],
  ['originalMaxAge', fc.oneof({ weight: 5, arbitrary: fc.constant(HOUR) }, fc.constantFrom(HOUR, null, 0, -1, 1e300, -1e300, 2 ** 53), fc.integer())],
  ['maxAge', fc.constantFrom(HOUR, HOUR, HOUR, 'x', 1e300)],
  ['sameSite', fc.constantFrom('lax', 'Strict', 'none', true, false, null, 'bogus')],
  ['path', fc.constantFrom('/', '/app', '/a;b', '/\u00e9', '')],
  ['domain', fc.constantFrom(null, 'example.com', '.example.com', 'ex ample.com', 'a;b')],
  ['secure', fc.constantFrom(true, false, 'auto', null)],
  ['httpOnly', fc.boolean()],
  ['__proto__', fc.constantFrom({ polluted: 1 }, null)]
]
/** JSON text of an object with these fields in this order (an own `__proto__` field included, as a hostile writer may write it). */
const objectText = (entries: Array<[string, unknown]>): string => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${k === 'cookie' ? v as string : JSON.stringify(v)}`).join(',')}}`
const cookieText = fc.tuple(...COOKIE_FIELDS.map(([name, usual]) => fc.option(cookieValue(usual), { nil: undefined, freq: 2 }).map((v): [string, unknown] => [name, v])))
  .map((fields) => objectText(fields.filter(([, v]) => v !== undefined)))
const session = fc.tuple(cookieText, fc.array(fc.tuple(KEY, json), { maxLength: 5 })).map(([c, fields]) => objectText([['cookie', c], ...fields]))
/** Stored texts: sessions with hostile fields, cut short, any JSON, any text. */
const storedText = fc.oneof(
  { weight: 4, arbitrary: session },
  fc.tuple(session, fc.nat()).map(([text, cut]) => text.slice(0, cut % (text.length + 1))),
  fc.json(), anyText(60),
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"cookie":{"__proto__":{"polluted":1}}}', '[]', 'null', '')
)

/**
 * A store whose callbacks are watched: what @fastify/session throws in one (an uncaught exception
 * in production: the process dies, the request never ends) is recorded instead.
 */
function watched (store: BackendStore): { store: fastifySession.SessionStore, thrown: unknown[], threw: () => Promise<void> } {
  const thrown: unknown[] = []
  let wake = (): void => {}
  const wrap = <T>(callback: StoreCallback<T>): StoreCallback<T> => (err, value) => {
    try {
      callback(err, value)
    } catch (e) {
      thrown.push(e)
      wake()
    }
  }
  return {
    thrown,
    threw: async () => { await new Promise<void>((resolve) => { wake = resolve }) },
    store: {
      get: (sid: string, callback: StoreCallback<SessionRecord | null>) => { store.get(sid, wrap(callback)) },
      set: (sid: string, s: object, callback: StoreCallback) => { store.set(sid, s, wrap(callback)) },
      destroy: (sid: string, callback: StoreCallback) => { store.destroy(sid, wrap(callback)) }
    } as unknown as fastifySession.SessionStore
  }
}

/** What a request answered, or `'threw'` when @fastify/session threw in a store callback. */
type Visit = { status: number, user: unknown } | 'threw'

/**
 * A @fastify/session app over a watched MapStore: `visit(text)` stores `text` as a fresh session
 * and asks `GET /me` with that session's signed cookie.
 */
async function sessionApp (t: { teardown: (fn: () => unknown) => void }): Promise<(text: string) => Promise<Visit>> {
  const backing = new MapStore({ logger: false })
  const { store, thrown, threw } = watched(backing)
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store, saveUninitialized: false, cookie: { secure: false, maxAge: HOUR } })
  app.get('/me', async (request) => ({ user: request.session.get('user') ?? null }))
  t.teardown(async () => { await app.close(); await backing.close() })
  await app.ready()
  const signer = new Signer(SECRET)
  let sid = 0
  return async (text) => {
    const id = `sid-${sid++}`
    thrown.length = 0
    backing.entries.set(id, { text, expiresAt: Date.now() + HOUR })
    const cookie = `sessionId=${encodeURIComponent(signer.sign(id))}`
    const res = await Promise.race([app.inject({ url: '/me', headers: { cookie } }), threw().then(() => null)])
    if (res === null || thrown.length > 0) return 'threw'
    return { status: res.statusCode, user: res.statusCode === 200 ? res.json<{ user: unknown }>().user : undefined }
  }
}

const EXPIRES = new Date(Date.now() + HOUR).toISOString()
/** Stored sessions @fastify/session cannot restore, found by the stored-record properties (seeds 20261206, 1 to 6), with the reason the store gives. */
const UNRESTORABLE: Array<[string, string]> = [
  [`{"cookie":{"expires":"${EXPIRES}","originalMaxAge":${HOUR}},"__proto__":{"polluted":1},"user":"x"}`, 'it has a field named __proto__'],
  ['{"__proto__":{}}', 'it has a field named __proto__'],
  // a field named like a Session method: @fastify/session answered 500 on the request that read it
  [`{"cookie":{"expires":"${EXPIRES}"},"user":"x","save":1}`, 'it has a field named save, a method of @fastify/session\'s Session'],
  ['{"touch":"x"}', 'it has a field named touch, a method of @fastify/session\'s Session'],
  ['{"cookie":{"originalMaxAge":{}}}', 'its cookie.originalMaxAge is not a duration'],
  [`{"cookie":{"expires":"${EXPIRES}","originalMaxAge":"x"},"user":"x"}`, 'its cookie.originalMaxAge is not a duration'],
  ['{"cookie":{"maxAge":1e+300}}', 'its cookie.maxAge is not a duration'],
  [`{"cookie":{"expires":"${EXPIRES}","sameSite":3},"user":"x"}`, 'its cookie.sameSite is not lax, strict or none'],
  ['{"cookie":{"sameSite":[]}}', 'its cookie.sameSite is not lax, strict or none'],
  ['{"cookie":{"path":"/a;b"}}', 'its cookie.path is not a cookie path'],
  ['{"cookie":{"path":"/\u00e9"}}', 'its cookie.path is not a cookie path'],
  ['{"cookie":{"domain":"ex ample.com"}}', 'its cookie.domain is not a domain'],
  [`{"cookie":{"expires":"${EXPIRES}","domain":1e+21}}`, 'its cookie.domain is not a domain'],
  ['{"cookie":{"expires":"+010000-01-01T00:00:00.000Z"},"user":"x"}', 'its cookie.expires is not a date']
]

test('regression: a stored session @fastify/session cannot restore reads as no session (it threw in the store callback: an uncaught exception)', async (t) => {
  for (const [text, problem] of UNRESTORABLE) t.strictSame(checkRecord(JSON.parse(text)), { problem }, text)
  // what express-session and @fastify/session write stays a session
  const written = [
    `{"cookie":{"originalMaxAge":${HOUR},"expires":"${EXPIRES}","secure":false,"httpOnly":true,"domain":"example.com","path":"/","sameSite":"Lax"},"user":"ada"}`,
    '{"cookie":{"originalMaxAge":null,"expires":null,"secure":"auto","httpOnly":true,"domain":".example.com","path":"","sameSite":true,"maxAge":0},"user":"ada"}',
    '{"cookie":{"originalMaxAge":null,"sameSite":false,"domain":null,"path":null,"partitioned":true},"user":"ada"}',
    '{"cookie":{"sameSite":"none","domain":""},"user":"ada"}',
    '{"cookie":{"sameSite":"","originalMaxAge":0,"maxAge":false,"path":""},"user":"ada"}'
  ]
  for (const text of written) t.equal(checkRecord(JSON.parse(text)).problem, null, text)
  const visit = await sessionApp(t)
  for (const [text] of UNRESTORABLE) t.strictSame(await visit(text), { status: 200, user: null }, `${text}: a fresh session`)
  t.strictSame(await visit(written[0] as string), { status: 200, user: 'ada' }, 'a session as written is read')
  t.equal(polluted(), false, 'nothing reaches Object.prototype')
})

test('checkRecord: any JSON value gives a problem or a session, never a throw', async (t) => {
  await holds(t, 'total', fc.property(fc.oneof(json, storedText.map((text) => { try { return JSON.parse(text) as unknown } catch { return text } })), (value) => {
    const check = checkRecord(value)
    return (typeof check.problem === 'string' || (check.problem === null && (check.expires === null || Number.isFinite(check.expires)))) && !polluted()
  }), 3000)
})

test('BackendStore.get on a backend holding any text: a session or null, twice, never a throw, nothing polluted', async (t) => {
  const memory = new MemoryBackend({ maxEntries: 100, maxBytes: undefined }, Date.now)
  const map = new MapStore({ logger: false })
  const stores: Array<[BackendStore, (sid: string, text: string) => void]> = [
    [map, (sid, text) => { map.entries.set(sid, { text, expiresAt: Date.now() + HOUR }) }],
    [new BackendStore(memory, { logger: false }), (sid, text) => { memory.write(sid, text, Date.now() + HOUR) }]
  ]
  t.teardown(async () => { for (const [store] of stores) await store.close() })
  let sessions = 0
  let sid = 0
  await holds(t, 'session or null', fc.asyncProperty(storedText, fc.constantFrom(0, 1), async (text, which) => {
    const [store, write] = stores[which] as [BackendStore, (sid: string, text: string) => void]
    const id = `sid-${sid++}`
    write(id, text)
    const first = await store.get(id)
    // a second read of the same text: from the parse the store kept
    const second = await store.get(id)
    if (first !== null) sessions++
    return (first === null || (Object.getPrototypeOf(first) === Object.prototype && checkRecord(first).problem === null)) &&
      JSON.stringify(second) === JSON.stringify(first) && !polluted()
  }), 1000)
  t.ok(sessions > 150, `sessions read back (${sessions} of 1000)`)
})

test('BackendStore.get on hostile texts: nesting 100,000 deep, 10 MB strings, prototype keys', async (t) => {
  const store = new MapStore({ logger: false })
  t.teardown(() => store.close())
  const expires = new Date(Date.now() + HOUR).toISOString()
  const deep = 100_000
  const texts: Array<[string, string, boolean]> = [
    ['arrays nested 100,000 deep', '['.repeat(deep) + ']'.repeat(deep), false],
    ['objects nested 100,000 deep in a session', `{"cookie":{"expires":"${expires}"},"data":${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}}`, true],
    ['a 10 MB string field', `{"cookie":{"expires":"${expires}"},"blob":"${'x'.repeat(10 << 20)}"}`, true],
    ['a 10 MB text cut short', `{"cookie":{"expires":"${expires}"},"blob":"${'x'.repeat(10 << 20)}`, false],
    ['a 10 MB key', `{"${'k'.repeat(10 << 20)}":1}`, true],
    ['constructor.prototype', `{"cookie":{"expires":"${expires}"},"constructor":{"prototype":{"polluted":1}}}`, true]
  ]
  for (const [label, text, isSession] of texts) {
    store.entries.set('sid', { text, expiresAt: Date.now() + HOUR })
    const first = await store.get('sid')
    const second = await store.get('sid')
    t.equal(first !== null, isSession, label)
    t.equal(second !== null, isSession, `${label}: read again`)
    t.equal(polluted(), false, `${label}: nothing reaches Object.prototype`)
  }
})

test('a @fastify/session app over any stored session: answered, never an uncaught throw, a hang, or a polluted prototype', async (t) => {
  const visit = await sessionApp(t)
  const statuses: Record<number, number> = {}
  await holds(t, 'answered', fc.asyncProperty(storedText, async (text) => {
    const outcome = await visit(text)
    if (outcome === 'threw') return false
    statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1
    // @fastify/session copies the stored fields onto its Session: one named like a method breaks it (its 500)
    const shadows = SESSION_METHODS.some((name) => text.includes(`"${name}":`))
    return (outcome.status === 200 || (outcome.status === 500 && shadows)) && !polluted()
  }), 400, UNRESTORABLE.map(([text]) => [text]))
  t.ok((statuses[200] ?? 0) > 100, `answers: ${JSON.stringify(statuses)}`)
})
