// anchor: the app of session-tiered-shared.ts on fastify-fleet's RedisStore alone (defaults), on the
// same ioredis client setup.
import { RedisStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { redisClient } from './session-redis-shared.js'
import { tieredBenchApp } from './session-tiered-shared.js'

await serve(await tieredBenchApp(new RedisStore({ client: await redisClient() })))
