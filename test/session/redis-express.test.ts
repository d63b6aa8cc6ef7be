// An Express app (express-session + connect-redis) and a Fastify app (@fastify/session + RedisStore)
// on one Redis share live sessions both ways, over real HTTP: what a team moving from Express keeps.
import { once } from 'node:events'
import type { AddressInfo, Server } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import { RedisStore } from '../../plugins/session/index.js'
import { ioredisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { requireService, unavailable } from '../helpers/services.js'

const SECRET = 'a secret of at least thirty-two characters, shared'
const MAX_AGE = 3_600_000

// express, express-session and connect-redis ship no types this project installs: loaded untyped
const load = async (name: string): Promise<any> => await import(name)

test('Express (express-session + connect-redis) and Fastify (RedisStore) share live sessions both ways', async (t) => {
  const redis = await requireService(t, 'redis')
  if (redis === null) return
  const client = ioredisClient(t, redis.port)
  const prefix = uniquePrefix('express')
  const loaded = await Promise.all([load('express'), load('express-session'), load('connect-redis')]).catch((err: Error) => err)
  /* c8 ignore next - only when the devDependencies express, express-session and connect-redis are missing */
  if (loaded instanceof Error) return unavailable(t, `express interop needs express, express-session and connect-redis@8: ${loaded.message}`)
  const [{ default: express }, { default: session }, { RedisStore: ConnectRedis }] = loaded

  const app = express()
  app.use(session({
    store: new ConnectRedis({ client, prefix }),
    secret: SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: MAX_AGE }
  }))
  app.post('/login/:user', (req: any, res: any) => { req.session.user = req.params.user; req.session.views = 0; res.json({ ok: true }) })
  app.get('/me', (req: any, res: any) => {
    if (req.session.user === undefined) return res.status(401).json({ user: null })
    req.session.views += 1
    res.json({ user: req.session.user, views: req.session.views, by: 'express' })
  })
  app.post('/logout', (req: any, res: any) => { req.session.destroy(() => res.status(204).end()) })
  const expressServer: Server = app.listen(0, '127.0.0.1')
  await once(expressServer, 'listening')
  t.teardown(() => { expressServer.close() })

  const store = new RedisStore({ client, prefix })
  t.teardown(() => store.clear())
  const fastify = Fastify()
  await fastify.register(fastifyCookie)
  await fastify.register(fastifySession, {
    store,
    secret: SECRET,
    cookieName: 'connect.sid',
    cookiePrefix: 's:',
    saveUninitialized: false,
    cookie: { secure: false, maxAge: MAX_AGE }
  })
  fastify.post<{ Params: { user: string } }>('/login/:user', async (req) => {
    await req.session.regenerate()
    req.session.set('user', req.params.user)
    req.session.set('views', 0)
    return { ok: true }
  })
  fastify.get('/me', async (req, reply) => {
    const user = req.session.get('user')
    if (user === undefined) return await reply.code(401).send({ user: null })
    const views = (req.session.get('views') as number) + 1
    req.session.set('views', views)
    return { user, views, by: 'fastify' }
  })
  fastify.post('/logout', async (req, reply) => {
    await req.session.destroy()
    return await reply.code(204).send()
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => fastify.close())

  const base = {
    express: `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`,
    fastify: `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`
  }
  const call = async (app: 'express' | 'fastify', method: string, path: string, cookie?: string): Promise<{ status: number, body: unknown, cookie: string | undefined }> => {
    const res = await fetch(base[app] + path, { method, headers: cookie === undefined ? {} : { cookie } })
    const text = await res.text()
    const set = res.headers.get('set-cookie')?.split(';')[0]
    return { status: res.status, body: text === '' ? null : JSON.parse(text), cookie: set }
  }

  // logged in on Express, used on Fastify, back on Express
  const login = await call('express', 'POST', '/login/ada')
  // s:<sid>.<HMAC-SHA256, base64 without padding>; Express URL-encodes it, Fastify only where needed
  const signed = /^connect\.sid=s:[\w-]+\.[A-Za-z0-9+/]{43}$/
  t.match(decodeURIComponent(String(login.cookie)), signed, 'express-session signs its cookie')
  const expressCookie = login.cookie as string
  t.strictSame((await call('fastify', 'GET', '/me', expressCookie)).body, { user: 'ada', views: 1, by: 'fastify' }, 'Fastify reads the session Express wrote')
  t.strictSame((await call('express', 'GET', '/me', expressCookie)).body, { user: 'ada', views: 2, by: 'express' }, 'Express reads what Fastify changed')
  t.strictSame((await call('fastify', 'GET', '/me', expressCookie)).body, { user: 'ada', views: 3, by: 'fastify' }, 'and the other way again')

  // logged in on Fastify, used on Express
  const fastifyLogin = await call('fastify', 'POST', '/login/bob')
  t.match(decodeURIComponent(String(fastifyLogin.cookie)), signed, 'Fastify signs its cookie the same way')
  const bobCookie = fastifyLogin.cookie as string
  t.strictSame((await call('express', 'GET', '/me', bobCookie)).body, { user: 'bob', views: 1, by: 'express' }, 'Express reads the session Fastify wrote')
  t.strictSame((await call('fastify', 'GET', '/me', bobCookie)).body, { user: 'bob', views: 2, by: 'fastify' }, 'Fastify reads what Express changed')

  // logout on one side ends the session on the other
  t.equal((await call('fastify', 'POST', '/logout', expressCookie)).status, 204)
  t.equal((await call('express', 'GET', '/me', expressCookie)).status, 401, 'logged out on Fastify: gone on Express')
  t.equal((await call('express', 'POST', '/logout', bobCookie)).status, 204)
  t.equal((await call('fastify', 'GET', '/me', bobCookie)).status, 401, 'logged out on Express: gone on Fastify')
  t.equal(await store.length(), 0, 'nothing left in Redis')
})
