// A real backend stopped under an app, with each read policy: the app answers within the store's
// timeout during the outage (503s, or "logged out" with readPolicy 'miss'), the circuit breaker
// opens and then refuses at once, health() says so, and everything recovers without a restart.
import { once } from 'node:events'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { PostgresStore, RedisStore, type BackendStore, type RedisClientLike, type ReadPolicy } from '../../plugins/session/index.js'
import { ioredisClient } from '../helpers/redis-clients.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { startPostgresServer } from '../helpers/postgres-server.js'
import type { DatabaseServerHandle } from '../helpers/server-process.js'

const SECRET = 'a secret of at least thirty-two characters'
const TIMEOUT = 500
const COOLDOWN = 1
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function app (t: Test, store: BackendStore): Promise<FastifyInstance> {
  const fastify = Fastify()
  await fastify.register(fastifyCookie)
  await fastify.register(fastifySession, { store, secret: SECRET, saveUninitialized: false, cookie: { secure: false, maxAge: 3_600_000 } })
  fastify.post('/login', async (req) => { req.session.set('user', 'ada'); return { ok: true } })
  fastify.get('/me', async (req, reply) => {
    const user = req.session.get('user')
    return user === undefined ? await reply.code(401).send({ user: null }) : { user }
  })
  fastify.get('/anon', async () => 'hello')
  t.teardown(() => fastify.close())
  return fastify
}

/** The status of `GET /me` with `cookie`, and how long it took. */
async function me (fastify: FastifyInstance, cookie: string): Promise<[number, number]> {
  const started = performance.now()
  const res = await fastify.inject({ url: '/me', headers: { cookie } })
  return [res.statusCode, performance.now() - started]
}

type Server = { kill: (signal?: NodeJS.Signals) => boolean, restart: () => Promise<void> }
interface Backend {
  name: string
  start: (t: Test) => Promise<{ server: Server, store: (readPolicy: ReadPolicy) => BackendStore } | null>
}

const BACKENDS: Backend[] = [
  {
    name: 'Redis',
    start: async (t) => {
      const server = await startRedisServer(t)
      if (server === null) return null
      const client = ioredisClient(t, server.port, { enableOfflineQueue: false, retryStrategy: () => 50 })
      await once(client, 'ready')
      return { server, store: (readPolicy) => new RedisStore({ client: client as unknown as RedisClientLike, timeout: TIMEOUT, readPolicy, breaker: { cooldown: COOLDOWN } }) }
    }
  },
  {
    name: 'PostgreSQL',
    start: async (t) => {
      const server: DatabaseServerHandle | null = await startPostgresServer(t)
      if (server === null) return null
      return { server, store: (readPolicy) => new PostgresStore({ url: server.url, createTable: true, pruneInterval: false, timeout: TIMEOUT, readPolicy, breaker: { cooldown: COOLDOWN }, logger: false }) }
    }
  }
]

for (const backend of BACKENDS) {
  test(`${backend.name} down under an app: each read policy, the breaker, and the way back`, async (t) => {
    const started = await backend.start(t)
    if (started === null) return
    const { server } = started
    const stores = { error: started.store('error'), miss: started.store('miss') }
    const apps = { error: await app(t, stores.error), miss: await app(t, stores.miss) }
    const cookies: Record<string, string> = {}
    for (const policy of ['error', 'miss'] as const) {
      const login = await apps[policy].inject({ method: 'POST', url: '/login' })
      cookies[policy] = String(login.headers['set-cookie']).split(';')[0] as string
      t.equal((await me(apps[policy], cookies[policy]))[0], 200, `${policy}: logged in`)
      t.strictSame(await stores[policy].health(), { ok: true, breaker: 'closed' }, `${policy}: healthy`)
    }

    server.kill('SIGKILL')
    await sleep(100)
    for (const policy of ['error', 'miss'] as const) {
      const statuses: number[] = []
      for (let i = 0; i < 7; i++) {
        const [status, took] = await me(apps[policy], cookies[policy] as string)
        statuses.push(status)
        t.ok(took < TIMEOUT + 250, `${policy}: request ${i + 1} answered within the timeout (${took.toFixed(0)} ms)`)
      }
      t.strictSame(statuses, Array(7).fill(policy === 'error' ? 503 : 401), policy === 'error' ? 'error: 503s' : 'miss: the user looks logged out')
      t.equal((await apps[policy].inject({ url: '/anon' })).statusCode, 200, `${policy}: pages without a session still work`)
      const stats = stores[policy].stats()
      t.equal(stats.breaker, 'open', `${policy}: the breaker opened`)
      t.ok(stats.refused >= 1, `${policy}: and refused calls at once (${stats.refused})`)
      t.match(await stores[policy].health(), { ok: false, breaker: 'open', error: { code: 'FST_FLEET_SESSION_UNAVAILABLE' } })
    }

    await server.restart()
    await sleep(COOLDOWN * 1000 + 50)
    for (const policy of ['error', 'miss'] as const) {
      let health = await stores[policy].health()
      // the probe may still meet a client reconnecting: give it a few more cooldowns
      for (let i = 0; i < 10 && !health.ok; i++) {
        await sleep(COOLDOWN * 1000 + 50)
        health = await stores[policy].health()
      }
      t.strictSame(health, { ok: true, breaker: 'closed' }, `${policy}: the probe closed the breaker`)
      const login = await apps[policy].inject({ method: 'POST', url: '/login' })
      t.equal(login.statusCode, 200, `${policy}: logins work again`)
      const cookie = String(login.headers['set-cookie']).split(';')[0] as string
      t.equal((await me(apps[policy], cookie))[0], 200, `${policy}: and sessions read, without a restart`)
    }
  })
}
