// Session stores on Memcached through @fastify/session over the HTTP/1.1 TLS fallback (autocannon):
// fastify-fleet's MemcachedStore (memjs) against connect-memcached 3 (the `memcached` client), with
// the rows of the Redis scenario: the read route with `rolling` (every read is also a `store.set`:
// write elision makes it at most a touch), the read route with `rolling: false`, and the write route.
// The write route has a floor anchor too (servers/session-floor-memcached.ts): the same two commands
// on memjs with nothing else around them.
// Each scenario starts its own throwaway memcached, so that the commands counted in its `stats`
// around each measured load are those of the server under load alone.
import { memcachedCommandsMetric, startMemcachedServer } from '../lib/memcached-server.js'
import { loginOnce } from '../lib/session-login.js'
import { defineScenarios, type AnchorEntry, type Scenario, type ServerEntry } from '../lib/scenario.js'

const fleetModule = new URL('../servers/session-fleet-memcached.js', import.meta.url)
const anchorModule = new URL('../servers/session-anchor-connect-memcached.js', import.meta.url)
const floorModule = new URL('../servers/session-floor-memcached.js', import.meta.url)

/** The fleet server and the connect-memcached anchor, with `env` for both and the row's goal. */
function servers (goal: number, env: Record<string, string> = {}): { fleet: ServerEntry, anchors: [AnchorEntry] } {
  return {
    fleet: { module: fleetModule, env },
    anchors: [{ label: 'connect-memcached 3', module: anchorModule, env, goal }]
  }
}

/** The servers of a row with the floor anchor after the anchor (no goal: it does less than the store must). */
function withFloor ({ fleet, anchors }: ReturnType<typeof servers>): { fleet: ServerEntry, anchors: [AnchorEntry, AnchorEntry] } {
  return { fleet, anchors: [...anchors, { label: 'the least a store on memjs does: one get, one set, JSON (the floor)', module: floorModule }] }
}

const setup: Scenario['setup'] = async () => {
  const memcached = await startMemcachedServer()
  return {
    env: { MEMCACHED_SERVERS: memcached.servers },
    metrics: [memcachedCommandsMetric(memcached.port)],
    teardown: async () => { await memcached.stop() }
  }
}

const common = {
  protocol: 'h1',
  setup,
  prepare: loginOnce,
  notes: 'commands: gets (one per key), sets, touches, deletes; fleet: a get per read once the expiry is known, a set per write; connect-memcached: a get and a set of the whole session per request'
} as const

export default defineScenarios([
  { ...common, name: 'session read (GET /me, rolling), MemcachedStore, HTTP/1.1 TLS', request: { path: '/me' }, ...servers(1.3) },
  { ...common, name: 'session read (GET /me, rolling: false), MemcachedStore, HTTP/1.1 TLS', request: { path: '/me' }, ...servers(1.0, { SESSION_ROLLING: 'false' }) },
  { ...common, name: 'session write (GET /visit), MemcachedStore, HTTP/1.1 TLS', request: { path: '/visit' }, ...withFloor(servers(1.0)) }
])
