import fastifyCookie, { Signer } from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify, { type FastifyInstance } from 'fastify'
import { test } from 'tap'
import { MemoryStore, type SessionStore } from '../../plugins/session/index.js'
import { sessionKeys, SignedIds } from '../../plugins/session/signed-ids.js'

const SECRET = 'signed-ids-secret-signed-ids-secret'

/** A signer that counts its signatures: @fastify/session takes one as `secret`. */
function countingSigner (): { signer: { sign: (v: string) => string, unsign: Signer['unsign'] }, signed: () => number } {
  const real = new Signer(SECRET)
  let count = 0
  return {
    signer: { sign: (value) => { count++; return real.sign(value) }, unsign: (value) => real.unsign(value) },
    signed: () => count
  }
}

async function sessionApp (store: SessionStore, secret: unknown): Promise<FastifyInstance> {
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: secret as string, store, saveUninitialized: false, cookie: { secure: false, maxAge: 3_600_000 } })
  app.post('/login', async (request) => {
    await request.session.regenerate()
    request.session.set('user', 'ada')
    request.session.set('views', 0)
    return { ok: true }
  })
  app.get('/me', async (request) => {
    const views = (request.session.get('views') as number | undefined ?? -1) + 1
    if (views > 0) request.session.set('views', views)
    return { user: request.session.get('user') ?? null, views }
  })
  return app
}

const cookieOf = (res: { headers: Record<string, unknown> }): string => String(res.headers['set-cookie']).split(';')[0] as string

test('a session this process wrote is read back without signing its id again', async (t) => {
  const { signer, signed } = countingSigner()
  const store = new MemoryStore()
  const app = await sessionApp(store, signer)
  t.teardown(async () => { await app.close(); await store.close() })

  const login = await app.inject({ method: 'POST', url: '/login' })
  t.equal(login.statusCode, 200)
  const cookie = cookieOf(login)
  const afterLogin = signed()
  t.ok(afterLogin >= 1, 'the new session id was signed')
  for (let views = 1; views <= 3; views++) {
    const res = await app.inject({ method: 'GET', url: '/me', headers: { cookie } })
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), { user: 'ada', views })
    t.equal(cookieOf(res), cookie, 'the same signed cookie comes back (rolling)')
  }
  // this relies on @fastify/session's private Session symbols (`sessionId`, `encryptedSessionId`):
  // a version that renames them makes this fail here, not silently cost an HMAC per request
  t.equal(signed(), afterLogin, 'no signature for the reads: @fastify/session still keeps the signed id under the symbols signed-ids.ts reads')

  const [sid] = await store.ids()
  const record = await store.get(sid as string) as Record<string, unknown>
  t.strictSame(Object.keys(record).sort(), ['cookie', 'user', 'views'], 'nothing enumerable is added')
  t.notMatch(JSON.stringify(record), /encrypted/, 'nor anything JSON shows')
})

test('a session written without a Session object (another process, a direct call) is signed as usual', async (t) => {
  const { signer, signed } = countingSigner()
  const store = new MemoryStore()
  const app = await sessionApp(store, signer)
  t.teardown(async () => { await app.close(); await store.close() })

  const cookie = cookieOf(await app.inject({ method: 'POST', url: '/login' }))
  const [sid] = await store.ids() as [string]
  // rewritten from a plain copy, as another process would: the store no longer vouches for the signature
  await store.destroy(sid)
  await store.set(sid, { cookie: { expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 }, user: 'ada', views: 5 })
  const before = signed()
  const res = await app.inject({ method: 'GET', url: '/me', headers: { cookie } })
  t.strictSame(res.json(), { user: 'ada', views: 6 })
  t.equal(signed(), before + 1, 'signed once')
  t.equal(cookieOf(res), cookie, 'to the same value')
  const again = await app.inject({ method: 'GET', url: '/me', headers: { cookie } })
  t.strictSame(again.json(), { user: 'ada', views: 7 })
  t.equal(signed(), before + 1, 'learned from that write: the next read signs nothing')
})

test('SignedIds', async (t) => {
  const idKey = Symbol('sessionId')
  const signedKey = Symbol('encryptedSessionId')
  const session = (id: string, signedId: unknown): object => ({ [idKey]: id, [signedKey]: signedId, [Symbol('other')]: 1, user: 'ada' })

  t.equal(sessionKeys({ user: 'ada' }), null, 'a plain object has no keys')
  t.equal(sessionKeys({ [idKey]: 'a' }), null, 'both symbols are needed')
  t.strictSame(sessionKeys(session('a', 'a.sig')), { id: idKey, signed: signedKey })

  const ids = new SignedIds(10)
  const lent = (sid: string): unknown[] => {
    const record = ids.lend(sid, {}) as Record<symbol, unknown>
    return [record[idKey], record[signedKey]]
  }
  ids.learn('a', { user: 'ada' })
  t.strictSame(lent('a'), [undefined, undefined], 'nothing before a Session came')
  ids.learn('a', session('a', 'a.sig'))
  t.strictSame(lent('a'), ['a', 'a.sig'], 'learned')
  ids.learn('a', session('a', 'a.sig'))
  t.strictSame(lent('a'), ['a', 'a.sig'], 'the same again')
  ids.learn('b', session('a', 'a.sig'))
  t.strictSame(lent('b'), [undefined, undefined], 'a Session stored under another id teaches nothing')
  ids.learn('c', session('c', undefined))
  t.strictSame(lent('c'), [undefined, undefined], 'a Session without a signed id teaches nothing')
  ids.learn('a', { user: 'ada' })
  t.strictSame(lent('a'), ['a', 'a.sig'], 'a plain object later changes nothing')

  const plain = { user: 'ada' }
  t.equal(ids.lend('b', plain), plain, 'an unknown id: the record itself')
  const nested = { cookie: { path: '/' }, list: [{ a: 1 }], user: 'ada' }
  const record = ids.lend('a', plain)
  t.not(record, plain, 'a known one: a copy carrying the ids')
  t.strictSame(Object.keys(record), ['user'])
  t.strictSame(Object.getOwnPropertySymbols(record), [idKey, signedKey], 'set before the fields')
  t.equal(Object.getOwnPropertyDescriptor(record, signedKey)?.enumerable, true, 'set as the Session sets them')
  t.equal(JSON.stringify(record), '{"user":"ada"}', 'JSON leaves them out')
  t.strictSame(Object.getPrototypeOf(record), Object.prototype, 'a plain object')
  const shallow = ids.lend('a', nested)
  t.equal(shallow.cookie, nested.cookie, 'the nested values moved as they are (the record is a fresh parse)')

  // a field named __proto__ (JSON.parse makes it an own field) is copied as a field, not handed to the setter
  const odd = JSON.parse('{"__proto__":{"polluted":true},"user":"ada"}') as Record<string, unknown>
  const oddLent = ids.lend('a', odd) as Record<string | symbol, unknown>
  t.equal(oddLent[signedKey], 'a.sig')
  t.strictSame(Object.getPrototypeOf(oddLent), Object.prototype, 'its prototype untouched')
  t.strictSame(Object.keys(oddLent), ['__proto__', 'user'], 'the field kept as a field')
  t.strictSame(Object.getOwnPropertyDescriptor(oddLent, '__proto__'), { value: { polluted: true }, writable: true, enumerable: true, configurable: true })
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted')

  ids.forget('a')
  t.strictSame(lent('a'), [undefined, undefined], 'forgotten')
  ids.learn('a', session('a', 'a.sig'))
  ids.clear()
  t.strictSame(lent('a'), [undefined, undefined], 'cleared')
})

test('a destroyed or cleared store forgets the signed ids', async (t) => {
  const idKey = Symbol('sessionId')
  const signedKey = Symbol('encryptedSessionId')
  const store = new MemoryStore()
  const write = async (sid: string): Promise<void> => {
    await store.set(sid, { [idKey]: sid, [signedKey]: `${sid}.sig`, cookie: { originalMaxAge: null }, user: sid })
  }
  const signedOf = async (sid: string): Promise<unknown> => ((await store.get(sid)) as Record<symbol, unknown> | null)?.[signedKey]
  await write('a')
  t.equal(await signedOf('a'), 'a.sig', 'lent on read')
  await store.destroy('a')
  await store.set('a', { cookie: { originalMaxAge: null }, user: 'a' })
  t.equal(await signedOf('a'), undefined, 'destroy forgets it')
  await write('b')
  await store.clear()
  await store.set('b', { cookie: { originalMaxAge: null }, user: 'b' })
  t.equal(await signedOf('b'), undefined, 'clear forgets it')
  await store.close()
})
