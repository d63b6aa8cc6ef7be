// Session stores through @fastify/session over the HTTP/1.1 TLS fallback (autocannon): a read route
// (`GET /me`; with `rolling`, the default, every read is also a `store.set`, which our MemoryStore
// elides) and a write route (`GET /visit` changes the session on every request). fastify-fleet's
// MemoryStore against @fastify/session's own (a Map of the live Session objects: no copy, and
// @fastify/session then reuses the signed cookie value instead of signing it again; fastify-fleet's
// stores hand that value back too, for the sessions this process wrote) and against the smallest
// store that copies and hands that value back too (a Map of JSON strings): the floor for any store
// that copies. Each server logs in once; the loads reuse the cookie.
import { loginOnce } from '../lib/session-login.js'
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const fleet: ServerEntry = { module: new URL('../servers/session-fleet-memory.js', import.meta.url) }
const anchors: [AnchorEntry, ...AnchorEntry[]] = [
  { label: '@fastify/session MemoryStore', module: new URL('../servers/session-anchor-memory.js', import.meta.url) },
  { label: 'a Map of JSON strings (the floor for copies)', module: new URL('../servers/session-anchor-json-map.js', import.meta.url), goal: 0.95 }
]

const prepare = loginOnce

export default defineScenarios([
  { name: 'session read (GET /me, rolling), MemoryStore, HTTP/1.1 TLS', protocol: 'h1', request: { path: '/me' }, prepare, fleet, anchors },
  { name: 'session write (GET /visit), MemoryStore, HTTP/1.1 TLS', protocol: 'h1', request: { path: '/visit' }, prepare, fleet, anchors }
])
