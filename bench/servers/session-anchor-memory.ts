// anchor: the same session app on @fastify/session's own MemoryStore (a bare Map, no expiry, no bound).
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'

await serve(await sessionApp(undefined))
