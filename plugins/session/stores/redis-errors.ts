import { defineError } from '../../internal/errors.js'

/**
 * A warning (never thrown): the Redis client given to `RedisStore` queues commands without bound
 * while Redis is down (ioredis with `enableOfflineQueue: true` and `maxRetriesPerRequest: null`).
 * Calls still fail after the store's `timeout`, but the queue grows until Redis is back.
 */
export const FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE = defineError(
  'FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE',
  'fastify-fleet/session: RedisStore: %s'
)
