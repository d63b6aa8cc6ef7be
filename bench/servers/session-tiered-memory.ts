// ceiling: the session app (`GET /mix`, h2c) on fastify-fleet's MemoryStore (defaults): every
// read answered in this process, nothing sent anywhere. No near cache can do less per request (it
// must also copy, and send each write to the shared store): its row against TieredStore shows
// what the near cache costs beyond a store in memory, and its CPU per request bounds the ratio any
// near cache can reach over RedisStore alone.
import { MemoryStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'

await serve(await sessionApp(new MemoryStore(), { h2c: true }))
