// Invalidation between two TieredStores in one process, each on its own connections (two hosts as
// far as the servers can tell), on each channel: Redis pub/sub (ioredis and node-redis) and
// PostgreSQL LISTEN/NOTIFY (a pool's connection, or one of its url); then each channel losing its
// server and coming back (throwaway servers). The cluster bus is tested in real workers
// (tiered-cluster-workers.test.ts).
import { once } from 'node:events'
import pg from 'pg'
import { test, type Test } from 'tap'
import { PostgresStore, RedisStore, TieredStore, type BackendStore, type RedisClientLike } from '../../plugins/session/index.js'
import { postgresChannelName } from '../../plugins/session/stores/postgres-invalidation.js'
import { startPostgresServer } from '../helpers/postgres-server.js'
import { clientOf, ioredisClient, LIBRARIES, nodeRedisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { freePort, startRedisServer } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'
import { dropTables, pgPool, uniqueTable } from '../helpers/sql.js'
import { until } from '../helpers/tiered.js'

const HOUR = 3_600_000
/** Long enough that only a message makes the other store read again. */
const NEAR = { ttl: 60, maxAge: 600 }
/** The bound asserted on the delivery of a message (measured: about a millisecond). */
const BOUND = 2000

const session = (fields: Record<string, unknown>): Record<string, unknown> =>
  ({ cookie: { expires: new Date(Date.now() + HOUR), originalMaxAge: HOUR, path: '/' }, ...fields })

/** Short: the channel is pinged every 0.1 s. */
const PINGED = { ttl: 0.1, maxAge: 600 }

/** `store`, whose channels call `answered` after each ping that answered. */
function counted<S extends RedisStore | PostgresStore> (store: S, answered: () => void): S {
  const open = store.invalidationChannel.bind(store)
  store.invalidationChannel = () => {
    const channel = open()
    const ping = channel.ping as () => Promise<void>
    return { ...channel, ping: async () => { await ping(); answered() } }
  }
  return store
}

/** Two tiered stores over `inner()` each (closed with them), both listening; closed at teardown. */
async function pair (t: Test, inner: () => BackendStore, near = NEAR): Promise<[TieredStore, TieredStore]> {
  const make = (): TieredStore => new TieredStore({ store: inner(), near, closeStore: true })
  const stores = [make(), make()] as [TieredStore, TieredStore]
  t.teardown(async () => { for (const store of stores) await store.close() })
  await until(() => stores.every((s) => s.stats().near.listening === true), 'both channels listening')
  return stores
}

/** How long after `change` resolved `store` heard of it (one more message), in ms. */
async function heard (store: TieredStore, change: () => Promise<void>): Promise<number> {
  const before = store.stats().near.invalidations
  await change()
  const done = performance.now()
  await until(() => store.stats().near.invalidations > before, 'the message', BOUND)
  return performance.now() - done
}

/** A change on A reaches B. */
async function carries (t: Test, a: TieredStore, b: TieredStore): Promise<void> {
  const took = await heard(b, () => a.set(`carried-${Date.now().toString(36)}`, session({ user: 'ada' })))
  t.ok(took < BOUND, `a change on A reaches B (${took.toFixed(1)} ms)`)
}

/** What each channel must do: B sees each change A makes once its message arrives, and nothing else. */
async function exchange (t: Test, [a, b]: [TieredStore, TieredStore], label: string): Promise<void> {
  const sid = `${label}-${Date.now().toString(36)}`
  await heard(b, () => a.set(sid, session({ user: 'ada', views: 1 })))
  t.equal((await b.get(sid))?.views, 1, 'B reads the session')
  t.equal((await b.get(sid))?.views, 1, 'then from its copy')
  const hits = b.stats().near.hits
  t.equal(hits, 1)

  const changed = await heard(b, () => a.set(sid, session({ user: 'ada', views: 2 })))
  t.equal((await b.get(sid))?.views, 2, `a change on A: B reads it once the message came (${changed.toFixed(1)} ms after set resolved)`)
  t.ok(changed < BOUND, 'within the bound')

  const read = await a.get(sid)
  const before = b.stats().near.invalidations
  await a.set(sid, { ...read, cookie: { ...read?.cookie, expires: new Date(Date.now() + 2 * HOUR) } })
  await heard(b, () => a.set(`${sid}-other`, session({ user: 'bob' })))
  t.equal(b.stats().near.invalidations, before + 1, 'a rolled session published nothing (the next message was the other session\'s)')

  const destroyed = await heard(b, () => a.destroy(sid))
  t.equal(await b.get(sid), null, `a destroy on A: B reads no session (${destroyed.toFixed(1)} ms)`)

  await b.get(`${sid}-other`)
  await heard(b, () => a.clear())
  t.equal(b.stats().near.size, 0, 'a clear on A: B dropped every copy')
  t.equal(await b.get(`${sid}-other`), null)
  t.equal(a.stats().near.invalidations, 0, 'A hears none of its own messages')
}

for (const library of LIBRARIES) {
  test(`Redis pub/sub on ${library}: each store sees the other's changes once their message arrives`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const prefix = uniquePrefix(`tiered-${library}`)
    const clients = [await clientOf(t, library, redis.port), await clientOf(t, library, redis.port)]
    let n = 0
    const stores = await pair(t, () => new RedisStore({ client: clients[n++ % 2] as unknown as RedisClientLike, prefix }))
    await exchange(t, stores, library)
  })
}

test('Redis: cluster and sentinel clients have no channel; a store whose client is offline fails to publish', async (t) => {
  const shapes: Record<string, object> = {
    'an ioredis Cluster': { call () {}, multi () {}, status: 'ready', isCluster: true, duplicate () {}, options: {} },
    'a node-redis cluster': { sendCommand () {}, multi () {}, close () {}, nodeClient () {}, masters: [], isReady: true, duplicate () {} },
    'a node-redis sentinel': { sendCommand () {}, multi () {}, close () {}, getMasterNode () {}, isReady: true, duplicate () {} },
    'a client without duplicate()': { sendCommand () {}, multi () {}, close () {}, isReady: true, isOpen: true }
  }
  for (const [label, client] of Object.entries(shapes)) {
    const store = new RedisStore({ client: client as RedisClientLike })
    t.throws(() => new TieredStore({ store }), {
      code: 'FST_FLEET_SESSION_INVALID_OPTION',
      message: /^fastify-fleet\/session: invalid option invalidation: RedisStore has no invalidation channel on a Redis Cluster or Sentinel client/
    }, label)
    t.ok(new TieredStore({ store, invalidation: false }), `${label}: invalidation: false works`)
  }
  const server = await startRedisServer(t)
  if (server === null) return
  const client = ioredisClient(t, server.port, { enableOfflineQueue: false, retryStrategy: () => 50 })
  await once(client, 'ready')
  const store = new TieredStore({ store: new RedisStore({ client: client as unknown as RedisClientLike, timeout: 200 }) })
  t.teardown(() => store.close())
  await until(() => store.stats().near.listening === true, 'the channel listening')
  const channel = (store.stats().near)
  t.equal(channel.listening, true)
  server.kill('SIGKILL')
  await until(() => client.status !== 'ready', 'the client offline')
  await t.rejects(new RedisStore({ client: client as unknown as RedisClientLike, timeout: 200 }).invalidationChannel().publish('a'), {
    code: 'FST_FLEET_SESSION_BACKEND', message: /^fastify-fleet\/session: invalidation publish failed: Redis is unreachable: the ioredis client is/
  })
})

for (const library of LIBRARIES) {
  test(`Redis on ${library} goes away and comes back: the channel stops listening, then listens again and carries changes`, async (t) => {
    const server = await startRedisServer(t)
    if (server === null) return
    const prefix = uniquePrefix(`tiered-restart-${library}`)
    const connect = async (): Promise<RedisClientLike> => {
      if (library === 'node-redis') return await nodeRedisClient(t, server.port) as unknown as RedisClientLike
      const client = ioredisClient(t, server.port, { retryStrategy: () => 50 })
      await once(client, 'ready')
      return client as unknown as RedisClientLike
    }
    const clients = [await connect(), await connect()]
    let n = 0
    let pings = 0
    const [a, b] = await pair(t, () => counted(new RedisStore({ client: clients[n++ % 2] as RedisClientLike, prefix, timeout: 500, breaker: false }), () => { pings++ }), PINGED)
    await until(() => pings >= 2, 'pings answered')
    await carries(t, a, b)
    server.kill('SIGKILL')
    await until(() => a.stats().near.listening === false && b.stats().near.listening === false, 'both channels down')
    await server.restart()
    await until(() => a.stats().near.listening === true && b.stats().near.listening === true, 'both listening again', 20_000)
    await until(async () => (await a.health()).ok, 'the client back', 30_000)
    await carries(t, a, b)
  })
}

test('PostgreSQL LISTEN/NOTIFY, on a connection of the pool and on one of the url', async (t) => {
  const postgres = await requireService(t, 'postgres')
  if (postgres === null) return
  const table = uniqueTable('tiered')
  const pools = [pgPool(t, postgres.url, { max: 2 }), pgPool(t, postgres.url, { max: 2 })]
  dropTables(t, (sql) => (pools[0] as pg.Pool).query(sql), [table], '"')
  // connections that once listened elsewhere go back to the pool: the channel may get one of them
  for (const pool of pools) {
    const used = await Promise.all([pool.connect(), pool.connect()])
    for (const client of used) await client.query('LISTEN "another-channel"')
    for (const client of used) client.release()
  }
  let n = 0
  const stores = await pair(t, () => new PostgresStore({ pool: pools[n++ % 2] as pg.Pool, tableName: table, createTable: true, pruneInterval: false }))
  await (pools[0] as pg.Pool).query('SELECT pg_notify($1, $2)', ['another-channel', 'not for the store'])
  await exchange(t, stores, 'pg-pool')

  const urls = await pair(t, () => new PostgresStore({ url: postgres.url, tableName: table, createTable: true, pruneInterval: false }))
  await exchange(t, urls, 'pg-url')

  const single = pgPool(t, postgres.url, { max: 1 })
  const held = await single.connect()
  const waiting = new TieredStore({ store: new PostgresStore({ pool: single, tableName: table }) })
  await waiting.close()
  held.release()
  await until(() => single.totalCount === 0, 'the connection it got after close() destroyed')
  t.equal(waiting.stats().near.listening, false, 'closed while it waited for a connection: never listens, gives it up')

  const nowhere = pgPool(t, `postgres://postgres@127.0.0.1:${await freePort()}/test`, { max: 1, connectionTimeoutMillis: 1000 })
  const connect = nowhere.connect.bind(nowhere) as () => Promise<pg.PoolClient>
  let tries = 0
  Object.assign(nowhere, { connect: async () => { tries++; return await connect() } })
  const refused = new TieredStore({ store: new PostgresStore({ pool: nowhere, tableName: table }) })
  await until(() => tries >= 2, 'a second try after a refused connection')
  t.equal(refused.stats().near.listening, false, 'nothing listens on a closed port: it tries again')
  await refused.close()

  const spare = new PostgresStore({ pool: pools[0] as pg.Pool, tableName: table }).invalidationChannel()
  await t.rejects(spare.ping?.() as Promise<void>, { message: 'not listening' }, 'a ping before it listens fails')
  await spare.close()

  t.equal(postgresChannelName('"session"'), 'fastify-fleet:invalidate:session')
  t.equal(postgresChannelName('"public"."session"'), 'fastify-fleet:invalidate:public.session')
  t.match(postgresChannelName(`"${'s'.repeat(40)}"."${'t'.repeat(40)}"`), /^fastify-fleet:invalidate:[0-9a-f]{32}$/, 'a long name: its hash (63 bytes at most)')
  const client = new pg.Client({ connectionString: postgres.url })
  t.throws(() => new TieredStore({ store: new PostgresStore({ pool: client, tableName: table }) }), {
    code: 'FST_FLEET_SESSION_INVALID_OPTION',
    message: 'fastify-fleet/session: invalid option invalidation: PostgresStore listens for invalidations on a connection of its pool: give a pg.Pool or url, or pass invalidation: false to TieredStore'
  }, 'a pg.Client cannot lend a connection')
})

test('PostgreSQL goes away and comes back: the channel stops listening, opens a new connection, and carries changes', async (t) => {
  const server = await startPostgresServer(t)
  if (server === null) return
  const table = uniqueTable('tiered_restart')
  let pings = 0
  const make = (): PostgresStore => counted(new PostgresStore({ url: server.url, tableName: table, createTable: true, pruneInterval: false, timeout: 1000, breaker: false, logger: false }), () => { pings++ })
  const [a, b] = await pair(t, make, PINGED)
  await until(() => pings >= 2, 'pings answered')
  await carries(t, a, b)
  server.kill('SIGKILL')
  await until(() => a.stats().near.listening === false && b.stats().near.listening === false, 'both channels down', 20_000)
  await server.restart()
  await until(() => a.stats().near.listening === true && b.stats().near.listening === true, 'both listening again', 30_000)
  await until(async () => (await a.health()).ok, 'the pool back', 30_000)
  await carries(t, a, b)
})
