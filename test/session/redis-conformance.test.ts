import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { clientOf, ioredisClient, LIBRARIES, nodeRedisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { freePort, startRedisServer } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'

for (const library of LIBRARIES) {
  test(`RedisStore on ${library} passes the conformance suite, its faults included`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const client = await clientOf(t, library, redis.port) as unknown as RedisClientLike
    const prefix = uniquePrefix(`conformance-${library}`)
    t.teardown(() => new RedisStore({ client, prefix }).clear())
    const closedPort = await freePort()

    forTap(t, storeConformance((ctx) => new RedisStore({ ...ctx, client, prefix }), {
      // a Redis that accepts commands and never answers: a throwaway server stopped with SIGSTOP
      hangingStore: async (ctx) => {
        const server = await startRedisServer(t)
        if (server === null) throw new Error('redis-server is needed for the hanging case')
        const hanging = await clientOf(t, library, server.port) as unknown as RedisClientLike
        server.kill('SIGSTOP')
        return new RedisStore({ ...ctx, client: hanging, prefix })
      },
      // nothing listens on the port
      failingStore: async (ctx) => {
        const failing = library === 'ioredis'
          ? ioredisClient(t, closedPort, { enableOfflineQueue: false, retryStrategy: () => null })
          : await nodeRedisClient(t, closedPort, false)
        return new RedisStore({ ...ctx, client: failing as unknown as RedisClientLike, prefix })
      }
    }))
  })
}
