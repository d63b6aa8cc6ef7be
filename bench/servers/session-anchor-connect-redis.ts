// anchor: the same session app on connect-redis 8's RedisStore (defaults: prefix `sess:`, a session
// without cookie expiry kept 86400 s) on the same ioredis client setup. connect-redis 8 takes an
// ioredis client as it is (it tells ioredis and node-redis apart by shape); its callback API is the
// one @fastify/session calls (`get`, `set`, `destroy`), so it plugs in as its `store`.
import { RedisStore } from 'connect-redis'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { redisClient, rolling } from './session-redis-shared.js'

await serve(await sessionApp(new RedisStore({ client: await redisClient() }), { rolling }))
