// fleet: the session app (`GET /mix`, h2c) on fastify-fleet's TieredStore (defaults: near copies of
// 10,000 sessions, near.ttl 1 s, near.maxAge 60 s, invalidation over Redis pub/sub) over RedisStore
// (defaults) on an ioredis client. TIERED_INVALIDATION=false: `invalidation: false` (no channel:
// near.ttl alone bounds how stale a copy can be).
import { RedisStore, TieredStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { redisClient } from './session-redis-shared.js'

const invalidation = process.env.TIERED_INVALIDATION === 'false' ? { invalidation: false as const } : {}
await serve(await sessionApp(new TieredStore({ store: new RedisStore({ client: await redisClient() }), ...invalidation }), { h2c: true }))
