// fleet: the session app on fastify-fleet's MemcachedStore (defaults: prefix '', write elision on,
// touchAfter 60 s; the memjs client it makes for `servers`).
import { MemcachedStore } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { memcachedServers, rolling } from './session-memcached-shared.js'

await serve(await sessionApp(new MemcachedStore({ servers: memcachedServers() }), { rolling }))
