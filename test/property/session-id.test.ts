import fastifyCookie, { Signer } from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify from 'fastify'
import fc from 'fast-check'
import { test } from 'tap'
import { MemoryStore } from '../../plugins/session/index.js'
import { SignedIds } from '../../plugins/session/signed-ids.js'
import { anyText, headerText, holds } from '../helpers/property.js'

const SECRET = 'property-secret-property-secret-!!'
const OTHER_SECRET = 'another-secret-another-secret-!!!!'
const signer = new Signer(SECRET)
// @fastify/session keeps a Session's id and signed id under two module-level symbols
const ID = Symbol('sessionId')
const SIGNED = Symbol('encryptedSessionId')
const sessionOf = (sid: string, signed: string): object => ({ [ID]: sid, [SIGNED]: signed, user: 'u' })

test('SignedIds: a lent signed id is always a signature of the id asked for, the last one learned', async (t) => {
  const sids = fc.constantFrom('a', 'b', 'c', 'a.b', '', '\u00e9')
  const op = fc.oneof(
    fc.tuple(fc.constant('learn' as const), sids, sids, fc.boolean()),
    fc.tuple(fc.constant('forget' as const), sids, sids, fc.boolean()),
    fc.tuple(fc.constant('lend' as const), sids, sids, fc.boolean())
  )
  await holds(t, 'own signature', fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    const ids = new SignedIds(100)
    const model = new Map<string, string>()
    for (const [kind, sid, of, foreign] of ops) {
      if (kind === 'learn') {
        // a Session of `of` (its id signed with this or another secret) handed to set(sid)
        const signed = (foreign ? new Signer(OTHER_SECRET) : signer).sign(of)
        ids.learn(sid, sessionOf(of, signed))
        if (sid === of) model.set(sid, signed)
      } else if (kind === 'forget') {
        ids.forget(sid)
        model.delete(sid)
      } else {
        const lent = ids.lend(sid, { user: 'u' }) as Record<string | symbol, unknown>
        const expected = model.get(sid)
        if (expected === undefined ? lent[SIGNED] !== undefined : lent[SIGNED] !== expected || lent[ID] !== sid) return false
        // what @fastify/session will put in the Set-Cookie names this session, under some secret of the app
        if (expected !== undefined && ![SECRET, OTHER_SECRET].some((s) => new Signer(s).unsign(expected).value === sid)) return false
        if (lent.user !== 'u' || Object.keys(lent).join() !== 'user') return false
      }
    }
    return true
  }), 2000)
})

test('MemoryStore ids: any non-empty string is its own key; the empty one is refused with a code', async (t) => {
  const store = new MemoryStore({ logger: false })
  t.teardown(() => store.close())
  await holds(t, 'opaque ids', fc.asyncProperty(anyText(40), anyText(40), async (sid, other) => {
    if (sid === '') {
      const refused = await store.get(sid).then(() => null, (err: { code?: string }) => err.code)
      return refused === 'FST_FLEET_SESSION_INVALID_ID'
    }
    await store.set(sid, { cookie: { expires: new Date(Date.now() + 60_000), originalMaxAge: 60_000 }, owner: sid })
    const own = await store.get(sid)
    const theirs = other === '' || other === sid ? null : await store.get(other)
    await store.destroy(sid)
    return own?.owner === sid && (theirs === null || theirs.owner === other) && await store.get(sid) === null
  }), 1000, [['\ud800', '\udc00'], ['a', 'A'], ['s:a', 'a']])
})

test('a @fastify/session app: only the untouched signed cookie reads the session; any other cookie reads as none', async (t) => {
  const store = new MemoryStore({ logger: false })
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store, saveUninitialized: false, cookie: { secure: false, maxAge: 3_600_000 } })
  app.post('/login', async (request) => {
    await request.session.regenerate()
    request.session.set('user', 'ada')
    return { ok: true }
  })
  app.get('/me', async (request) => ({ user: request.session.get('user') ?? null }))
  t.teardown(async () => { await app.close(); await store.close() })
  const login = await app.inject({ method: 'POST', url: '/login' })
  const cookie = String(login.headers['set-cookie']).split(';')[0] as string
  const value = decodeURIComponent(cookie.slice('sessionId='.length))
  const [sid] = await store.ids() as [string]
  t.equal(value, signer.sign(sid), 'the cookie is the signed id')

  const tampered = fc.oneof(
    fc.tuple(fc.nat(value.length - 1), fc.string({ minLength: 1, maxLength: 1 })).map(([i, c]) => value.slice(0, i) + c + value.slice(i + 1)),
    fc.nat(value.length - 1).map((n) => value.slice(0, n)),
    anyText(8).map((tail) => value + tail),
    fc.constantFrom(new Signer(OTHER_SECRET).sign(sid), sid, `${sid}.`, `.${value.split('.')[1] as string}`, value.toUpperCase(), value.toLowerCase(),
      `${sid}x.${value.split('.')[1] as string}`, signer.sign(sid + 'x'), ` ${value}`, `${value};`, `s:${value}`),
    headerText(60)
  ).filter((v) => !/[\ud800-\udfff]/.test(v.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) // a lone surrogate cannot be percent-encoded: no client sends one
  let accepted = 0
  await holds(t, 'tampered is none', fc.asyncProperty(tampered, async (v) => {
    const res = await app.inject({ url: '/me', headers: { cookie: `sessionId=${encodeURIComponent(v)}` } })
    const user = res.statusCode === 200 ? res.json<{ user: unknown }>().user : 'error'
    if (v === value) accepted++
    // a Set-Cookie, if any, clears the cookie or names the session read: never the logged-in one for a tampered cookie
    const setCookie = res.headers['set-cookie']
    const issuedValue = setCookie === undefined ? '' : decodeURIComponent(String(setCookie).split(';')[0]?.slice('sessionId='.length) as string)
    const issued = issuedValue === '' ? null : signer.unsign(issuedValue)
    return user === (v === value ? 'ada' : null) && (issued === null || (issued.valid && (v === value) === (issued.value === sid)))
  }), 500, [[value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A')], [new Signer(OTHER_SECRET).sign(sid)]])
  t.ok(accepted < 500, `tampered values tried (${500 - accepted} of 500)`)
  const again = await app.inject({ url: '/me', headers: { cookie } })
  t.same(again.json(), { user: 'ada' }, 'the real cookie still reads the session')
})
