import type { SessionStore } from '../contract.js'
import type { CaseSpec, FakeClock, Harness, Settings } from './harness.js'

const SECRET = 'conformance-secret-conformance-secret'
const MAX_AGE = 60_000

interface AppOptions {
  saveUninitialized: boolean
  rolling: boolean
}

interface Reply {
  status: number
  body: unknown
  /** The `Set-Cookie` of the session cookie, if the response had one. */
  setCookie: string | undefined
}

/** A browser with one cookie: the session cookie (`sessionId`). */
interface Client {
  send: (method: 'GET' | 'POST', url: string, body?: object) => Promise<Reply>
  /** The session id in the cookie (its part before the signature). */
  sid: () => string | undefined
  /** Sets the cookie value (e.g. a signed id the store never saw); `undefined` drops the cookie. */
  use: (value: string | undefined) => void
  signCookie: (value: string) => string
}

type SessionObject = Record<string, unknown> & { regenerate: () => Promise<void>, destroy: () => Promise<void> }

/** A Fastify app with `@fastify/cookie` and `@fastify/session` on `store` (the peer dependencies load only here). */
async function startApp (store: SessionStore, opts: AppOptions): Promise<{ client: Client, close: () => Promise<void> }> {
  const { default: Fastify } = await import('fastify')
  const { default: fastifyCookie } = await import('@fastify/cookie')
  const { default: fastifySession } = await import('@fastify/session')
  const app = Fastify()
  await app.register(fastifyCookie, { secret: SECRET })
  await app.register(fastifySession, {
    secret: SECRET,
    store: store as unknown as import('@fastify/session').FastifySessionOptions['store'],
    cookie: { secure: false, maxAge: MAX_AGE },
    ...opts
  })
  const session = (request: { session: unknown }): SessionObject => request.session as SessionObject
  app.get('/anon', async () => 'hello')
  app.post('/cart', async (request) => {
    session(request).cart = (request.body as { item: string }).item
    return { cart: session(request).cart }
  })
  app.post('/login', async (request) => {
    await session(request).regenerate()
    session(request).user = (request.body as { user: string }).user
    session(request).views = 0
    return { user: session(request).user }
  })
  app.get('/me', async (request, reply) => {
    const { user, views } = session(request)
    if (user === undefined) return await reply.code(401).send({ error: 'not logged in' })
    return { user, views }
  })
  app.post('/visit', async (request) => {
    session(request).views = (session(request).views as number) + 1
    return { views: session(request).views }
  })
  app.post('/logout', async (request, reply) => {
    await session(request).destroy()
    return await reply.code(204).send()
  })
  await app.ready()

  let cookie: string | undefined
  const client: Client = {
    async send (method, url, body) {
      const res = await app.inject({ method, url, ...(body === undefined ? {} : { payload: body }), headers: cookie === undefined ? {} : { cookie: `sessionId=${cookie}` } })
      const setCookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('sessionId='))
      if (setCookie !== undefined) cookie = setCookie.slice('sessionId='.length).split(';')[0]
      const json = String(res.headers['content-type']).startsWith('application/json')
      return { status: res.statusCode, body: json ? res.json() : res.body, setCookie }
    },
    sid: () => cookie === undefined ? undefined : decodeURIComponent(cookie).slice(0, decodeURIComponent(cookie).lastIndexOf('.')),
    use: (value) => { cookie = value === undefined ? undefined : encodeURIComponent(value) },
    signCookie: (value) => app.signCookie(value)
  }
  return { client, close: () => app.close() }
}

/**
 * Runs `fn` with `Date.now` taken from the suite's clock, as `@fastify/session` reads it for cookie
 * expiry; put back afterwards.
 */
async function withClockAsNow (clock: FakeClock, fn: () => Promise<void>): Promise<void> {
  const realNow = Date.now
  Date.now = clock.now
  try {
    await fn()
  } finally {
    Date.now = realNow
  }
}

const expiresIn = (setCookie: string | undefined): number => Date.parse(String(setCookie).replace(/^.*; Expires=([^;]+).*$/i, '$1'))

/** The cases through a real Fastify app with `@fastify/cookie` and `@fastify/session`. */
export function appCases (settings: Settings): CaseSpec[] {
  const appCase = (name: string, opts: AppOptions, body: (h: Harness, assert: Parameters<CaseSpec['body']>[1], client: Client, store: SessionStore) => Promise<void>, make = (h: Harness) => h.store()): CaseSpec => ({
    name: `app: ${name}`,
    body: async (h, assert) => {
      const store = await make(h)
      await withClockAsNow(h.clock, async () => {
        const app = await startApp(store, opts)
        try {
          await body(h, assert, app.client, store)
        } finally {
          await app.close()
        }
      })
    }
  })
  const failing = settings.failingStore
  return [
    appCase('login regenerates the id; read, change, logout destroys', { saveUninitialized: false, rolling: true }, async (h, assert, client, store) => {
      assert.deepEqual(await client.send('POST', '/cart', { item: 'book' }).then((r) => [r.status, r.body]), [200, { cart: 'book' }], 'an anonymous session that changed')
      const before = client.sid() as string
      assert.equal((await store.get(before))?.cart, 'book', 'stored')
      assert.deepEqual((await client.send('POST', '/login', { user: 'ada' })).body, { user: 'ada' }, 'login')
      const sid = client.sid() as string
      assert.ok(sid !== before, 'login gives a new session id')
      assert.equal(await store.get(before), null, 'the id from before login is destroyed')
      assert.equal((await store.get(sid))?.user, 'ada', 'the new session is stored')
      assert.deepEqual(await client.send('GET', '/me').then((r) => [r.status, r.body]), [200, { user: 'ada', views: 0 }], 'read')
      assert.deepEqual((await client.send('POST', '/visit')).body, { views: 1 }, 'change')
      assert.deepEqual((await client.send('POST', '/visit')).body, { views: 2 }, 'change again')
      assert.deepEqual((await client.send('GET', '/me')).body, { user: 'ada', views: 2 }, 'the change was kept')
      assert.equal((await store.get(sid))?.views, 2, 'and stored')
      assert.equal((await client.send('POST', '/logout')).status, 204, 'logout')
      assert.equal(await store.get(sid), null, 'logout destroys the session')
      assert.equal((await client.send('GET', '/me')).status, 401, 'the old cookie opens nothing')
    }),
    {
      ...appCase('saveUninitialized: false stores nothing for anonymous visitors', { saveUninitialized: false, rolling: true }, async (h, assert, client, store) => {
        await store.clear()
        assert.equal(client.sid(), undefined, 'no cookie to begin with')
        for (const url of ['/anon', '/me', '/anon']) {
          const res = await client.send('GET', url)
          assert.equal(res.setCookie, undefined, `GET ${url}: no cookie`)
        }
        assert.equal(await store.length(), 0, 'no session stored')
      }),
      // it counts the stored sessions with length()
      skip: settings.listing ? undefined : 'counts the stored sessions with length() (option listing)'
    },
    appCase('saveUninitialized: true stores the anonymous visitor\'s session', { saveUninitialized: true, rolling: true }, async (h, assert, client, store) => {
      await client.send('GET', '/anon')
      // its fields (a store may also carry @fastify/session's id symbols, as its own Session objects do)
      const stored = await store.get(client.sid() as string) as { cookie: unknown }
      assert.deepEqual(Object.keys(stored), ['cookie'], 'stored')
      assert.deepEqual(stored.cookie, { expires: new Date(h.clock.now() + MAX_AGE).toISOString(), originalMaxAge: MAX_AGE, sameSite: null, secure: false, path: '/', httpOnly: true, domain: null }, 'with its cookie')
    }),
    appCase('rolling: a session in use stays alive past maxAge; unused, it expires', { saveUninitialized: false, rolling: true }, async (h, assert, client, store) => {
      let expires = expiresIn((await client.send('POST', '/login', { user: 'ada' })).setCookie)
      const sid = client.sid() as string
      for (const step of [40_000, 40_000, 1_000, 40_000, 40_000]) {
        h.clock.advance(step)
        const res = await client.send('GET', '/me')
        assert.deepEqual([res.status, res.body], [200, { user: 'ada', views: 0 }], `still logged in ${step / 1000} s later`)
        const next = expiresIn(res.setCookie)
        assert.ok(next > expires, 'the cookie expiry moved on')
        expires = next
      }
      h.clock.advance(MAX_AGE)
      assert.equal((await client.send('GET', '/me')).status, 401, 'unused for maxAge: logged out')
      assert.equal(await store.get(sid), null, 'and the old session is gone')
    }),
    appCase('rolling: false: the session expires maxAge after it was saved', { saveUninitialized: false, rolling: false }, async (h, assert, client, store) => {
      await client.send('POST', '/login', { user: 'ada' })
      const sid = client.sid() as string
      h.clock.advance(MAX_AGE / 2)
      const res = await client.send('GET', '/me')
      assert.deepEqual([res.status, res.setCookie], [200, undefined], 'read, nothing saved')
      h.clock.advance(MAX_AGE / 2)
      assert.equal((await client.send('GET', '/me')).status, 401, 'expired at maxAge')
      assert.equal(await store.get(sid), null, 'gone from the store')
    }),
    failing === undefined
      ? { name: 'app: a failing store gives 5xx answers, and the app keeps serving', skip: 'needs the failingStore option', body: async () => {} }
      : appCase('a failing store gives 5xx answers, and the app keeps serving', { saveUninitialized: false, rolling: true }, async (h, assert, client) => {
        // fastify-fleet's stores fail with 503 (the backend is unavailable); any store, with a 5xx
        const status = (code: number): number => settings.fleet ? code : Math.floor(code / 100) * 100
        assert.equal(status((await client.send('POST', '/login', { user: 'ada' })).status), settings.fleet ? 503 : 500, 'login: a 5xx')
        client.use(client.signCookie('some-session-id'))
        assert.equal(status((await client.send('GET', '/me')).status), settings.fleet ? 503 : 500, 'read with a session cookie: a 5xx')
        client.use(undefined)
        assert.deepEqual(await client.send('GET', '/anon').then((r) => [r.status, r.body]), [200, 'hello'], 'a request without a session cookie still works')
      }, (h) => h.store({}, failing))
  ]
}
