// anchor: the session app (`GET /mix`, h2c) on fastify-fleet's RedisStore alone (defaults), on the
// same ioredis client setup.
import { RedisStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { redisClient } from './session-redis-shared.js'

await serve(await sessionApp(new RedisStore({ client: await redisClient() }), { h2c: true }))
