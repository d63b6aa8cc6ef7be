// fleet: the session app on fastify-fleet's MemoryStore (defaults: 10000 entries, write elision on).
import { MemoryStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'

await serve(await sessionApp(new MemoryStore()))
