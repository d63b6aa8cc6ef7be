// TieredStore passes the conformance suite in front of MemoryStore and of RedisStore (its faults
// included: a hanging and a failing Redis), with its near cache and its invalidation channel on.
import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { MemoryStore, RedisStore, TieredStore, type RedisClientLike } from '../../plugins/session/index.js'
import { clientOf, ioredisClient, LIBRARIES, nodeRedisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { freePort, startRedisServer } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'

test('TieredStore over MemoryStore passes the conformance suite', async (t) => {
  forTap(t, storeConformance((ctx) => new TieredStore({ store: new MemoryStore(ctx) })))
})

for (const library of LIBRARIES) {
  test(`TieredStore over RedisStore on ${library} passes the conformance suite, its faults included`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const client = await clientOf(t, library, redis.port) as unknown as RedisClientLike
    const prefix = uniquePrefix(`tiered-conformance-${library}`)
    t.teardown(() => new RedisStore({ client, prefix }).clear())
    const closedPort = await freePort()
    const tiered = (store: RedisStore): TieredStore => new TieredStore({ store, closeStore: true })

    forTap(t, storeConformance((ctx) => tiered(new RedisStore({ ...ctx, client, prefix })), {
      hangingStore: async (ctx) => {
        const server = await startRedisServer(t)
        if (server === null) throw new Error('redis-server is needed for the hanging case')
        const hanging = await clientOf(t, library, server.port) as unknown as RedisClientLike
        server.kill('SIGSTOP')
        return tiered(new RedisStore({ ...ctx, client: hanging, prefix }))
      },
      failingStore: async (ctx) => {
        const failing = library === 'ioredis'
          ? ioredisClient(t, closedPort, { enableOfflineQueue: false, retryStrategy: () => null })
          : await nodeRedisClient(t, closedPort, false)
        return tiered(new RedisStore({ ...ctx, client: failing as unknown as RedisClientLike, prefix }))
      }
    }))
  })
}
