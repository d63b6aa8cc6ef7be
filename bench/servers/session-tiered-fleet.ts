// fleet: the app of session-tiered-shared.ts on fastify-fleet's TieredStore (defaults: near copies of
// 10,000 sessions, near.ttl 1 s, near.maxAge 60 s, invalidation over Redis pub/sub) over RedisStore
// (defaults) on an ioredis client.
import { RedisStore, TieredStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { redisClient } from './session-redis-shared.js'
import { tieredBenchApp } from './session-tiered-shared.js'

await serve(await tieredBenchApp(new TieredStore({ store: new RedisStore({ client: await redisClient() }) })))
