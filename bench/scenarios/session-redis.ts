// Session stores on Redis through @fastify/session over the HTTP/1.1 TLS fallback (autocannon):
// fastify-fleet's RedisStore against connect-redis 8, each on an ioredis client set up the same way.
// Rows: the read route with `rolling` (@fastify/session's default: every read is also a `store.set`,
// which write elision turns into at most an expiry refresh), the read route with `rolling: false`
// (a `store.get` alone) and the write route (the session changes on every request).
// A fourth row measures the ceiling of the rolling row: RedisStore with `rolling: false` (a read
// alone, one GETEX, no Set-Cookie) against connect-redis's rolled read. Write elision turns a rolled
// read into a read alone on the store's side, and @fastify/session adds the Set-Cookie of `rolling`
// on top, so no rolled read can beat this row: the rolling row's goal is reachable only in runs
// where this row is above it.
// Each scenario starts its own throwaway redis-server (free loopback port, no persistence), so that
// the commands counted in its `INFO commandstats` around each measured load are those of the server
// under load alone; the notes give them per request (Redis counts a script's own commands too).
import { redisScenarioSetup } from '../lib/redis-server.js'
import { loginOnce } from '../lib/session-login.js'
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const fleetModule = new URL('../servers/session-fleet-redis.js', import.meta.url)
const anchorModule = new URL('../servers/session-anchor-connect-redis.js', import.meta.url)

/** The fleet server and the connect-redis anchor, with `env` for both and the row's goal. */
function servers (goal: number, env: Record<string, string> = {}): { fleet: ServerEntry, anchors: [AnchorEntry] } {
  return {
    fleet: { module: fleetModule, env },
    anchors: [{ label: 'connect-redis 8', module: anchorModule, env, goal }]
  }
}

const setup = redisScenarioSetup

const prepare = loginOnce

const common = { protocol: 'h1', setup, prepare, notes: 'Redis counts the commands a script runs as well as the script (EVALSHA); round trips: fleet 1 per read, 1 per write' } as const

export default defineScenarios([
  { ...common, name: 'session read (GET /me, rolling), RedisStore on ioredis, HTTP/1.1 TLS', request: { path: '/me' }, ...servers(1.3) },
  {
    ...common,
    name: 'ceiling of the rolled read: a read alone (GET /me, rolling: false), RedisStore on ioredis, HTTP/1.1 TLS',
    request: { path: '/me' },
    fleet: { module: fleetModule, env: { SESSION_ROLLING: 'false' } },
    anchors: [{ label: 'connect-redis 8 with rolling', module: anchorModule, env: {} }]
  },
  { ...common, name: 'session read (GET /me, rolling: false), RedisStore on ioredis, HTTP/1.1 TLS', request: { path: '/me' }, ...servers(0.95, { SESSION_ROLLING: 'false' }) },
  { ...common, name: 'session write (GET /visit), RedisStore on ioredis, HTTP/1.1 TLS', request: { path: '/visit' }, ...servers(0.95) }
])
