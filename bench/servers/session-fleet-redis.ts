// fleet: the session app on fastify-fleet's RedisStore (defaults: prefix `sess:`, write elision on,
// touchAfter 60 s) on an ioredis client.
import { RedisStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { redisClient, rolling } from './session-redis-shared.js'

await serve(await sessionApp(new RedisStore({ client: await redisClient() }), { rolling }))
