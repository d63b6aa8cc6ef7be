// readPolicy 'stale' with a real Redis killed under an app and started again: while it is down, a
// session this host has a copy of still reads (the copy, answered within the store's timeout, then
// at once once the breaker opens), one it has none of fails with a 503, a logout fails and drops the
// copy; once Redis is back (empty: it keeps nothing on disk), its answers win over the copies.
import { once } from 'node:events'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyInstance } from 'fastify'
import { test } from 'tap'
import { RedisStore, TieredStore, type RedisClientLike } from '../../plugins/session/index.js'
import { ioredisClient } from '../helpers/redis-clients.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { until } from '../helpers/tiered.js'

const TIMEOUT = 300

async function app (store: TieredStore): Promise<FastifyInstance> {
  const fastify = Fastify()
  await fastify.register(fastifyCookie)
  await fastify.register(fastifySession, { store, secret: 'a secret of at least thirty-two characters', saveUninitialized: false, cookie: { secure: false, maxAge: 3_600_000 } })
  fastify.post('/login', async (req) => { req.session.set('user', 'ada'); return { ok: true } })
  fastify.get('/me', async (req, reply) => {
    const user = req.session.get('user')
    return user === undefined ? await reply.code(401).send({ user: null }) : { user }
  })
  fastify.post('/logout', async (req, reply) => { await req.session.destroy(); return await reply.code(204).send() })
  return fastify
}

test('stale: Redis killed and started again under an app', async (t) => {
  const server = await startRedisServer(t)
  if (server === null) return
  const client = ioredisClient(t, server.port, { enableOfflineQueue: false, retryStrategy: () => 50 })
  await once(client, 'ready')
  const inner = new RedisStore({ client: client as unknown as RedisClientLike, timeout: TIMEOUT, breaker: { cooldown: 0.5 } })
  // copies are never fresh: every read asks Redis, and only an outage serves a copy
  const store = new TieredStore({ store: inner, near: { ttl: 0.001, maxAge: 0.001 }, readPolicy: 'stale' })
  const fastify = await app(store)
  const other = await app(new TieredStore({ store: new RedisStore({ client: client as unknown as RedisClientLike }), invalidation: false }))
  t.teardown(async () => { await fastify.close(); await other.close(); await store.close() })
  const login = async (on: FastifyInstance): Promise<string> =>
    String((await on.inject({ method: 'POST', url: '/login' })).headers['set-cookie']).split(';')[0] as string
  const me = async (cookie: string): Promise<[number, number]> => {
    const started = performance.now()
    const res = await fastify.inject({ url: '/me', headers: { cookie } })
    return [res.statusCode, performance.now() - started]
  }
  const ada = await login(fastify)
  const bob = await login(fastify)
  const stranger = await login(other)
  const unseen = await login(other)
  t.equal((await me(ada))[0], 200)
  t.equal((await me(stranger))[0], 200, 'a session written elsewhere reads, from Redis')

  server.kill('SIGKILL')
  await until(() => client.status !== 'ready', 'the client to see Redis gone')
  for (let i = 0; i < 8; i++) {
    const [status, took] = await me(ada)
    t.equal(status, 200, `read ${i + 1} during the outage: the copy`)
    t.ok(took < TIMEOUT + 250, `within the store's timeout (${took.toFixed(0)} ms)`)
  }
  t.equal(store.stats().breaker, 'open', 'the breaker opened meanwhile')
  t.ok(store.stats().near.stale >= 8, 'each counted as a stale read')
  t.equal((await me(stranger))[0], 200, 'a session written elsewhere, read here before: the copy')
  t.equal((await me(unseen))[0], 503, 'one never read here: no copy, 503')
  t.equal((await fastify.inject({ method: 'POST', url: '/logout', headers: { cookie: bob } })).statusCode, 503, 'a logout fails')
  t.equal((await me(bob))[0], 503, 'and its copy is gone: not served stale')

  await server.restart()
  await until(async () => (await store.health()).ok, 'Redis back, the breaker closed', 20_000)
  const misses = store.stats().near.misses
  // the throwaway Redis keeps nothing on disk: it came back empty
  t.equal((await me(ada))[0], 401, 'once Redis answers, its answer wins over the copy (it lost the session)')
  t.equal(store.stats().near.misses, misses + 1, 'read from Redis')
  t.equal((await me(await login(fastify)))[0], 200, 'logins work again')
})
