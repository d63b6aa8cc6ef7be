// ClusterStore through @fastify/session: the session app in one worker of a `startCluster()`
// cluster, its sessions in the primary (each store call an IPC round trip), against the same app
// in the same cluster on fastify-fleet's MemoryStore, its sessions in the worker
// (servers/session-cluster.ts). Same routes as the
// MemoryStore scenario over the HTTP/1.1 TLS fallback (autocannon): `GET /me` with `rolling` (a
// `get`, then a `set` that write elision turns into at most an expiry refresh) and `GET /visit`
// (a `get` and a `set` of the changed session). Each server logs in once; the loads reuse the cookie.
import { loginOnce } from '../lib/session-login.js'
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const module = new URL('../servers/session-cluster.js', import.meta.url)
const fleet: ServerEntry = { module, env: { SESSION_STORE: 'cluster' } }
const anchors: [AnchorEntry, ...AnchorEntry[]] = [{ label: 'MemoryStore in the worker', module, env: { SESSION_STORE: 'memory' }, goal: 0.8 }]
const notes = 'both: the app in one worker of a two-worker cluster (the second idle)'

const prepare = loginOnce

export default defineScenarios([
  { name: 'session read (GET /me, rolling), ClusterStore in a worker, HTTP/1.1 TLS', protocol: 'h1', request: { path: '/me' }, prepare, fleet, anchors, notes },
  { name: 'session write (GET /visit), ClusterStore in a worker, HTTP/1.1 TLS', protocol: 'h1', request: { path: '/visit' }, prepare, fleet, anchors, notes }
])
