// anchor: the same session app on connect-memcached 3 (defaults: prefix '', a session without
// cookie expiry kept a day; the `memcached` client it makes for `hosts`). connect-memcached builds
// its store on the `Store` of the session module it is given: @fastify/session's, as its users wire it.
import { createRequire } from 'node:module'
import fastifySession from '@fastify/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { memcachedServers, rolling } from './session-memcached-shared.js'

// connect-memcached ships no types
const connectMemcached = createRequire(import.meta.url)('connect-memcached') as (session: unknown) => new (options: { hosts: string }) => any
const MemcachedStore = connectMemcached(fastifySession)

await serve(await sessionApp(new MemcachedStore({ hosts: memcachedServers() }), { rolling }))
