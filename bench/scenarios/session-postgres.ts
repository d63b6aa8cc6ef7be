// Session stores on PostgreSQL through @fastify/session over the HTTP/1.1 TLS fallback (autocannon):
// fastify-fleet's PostgresStore against connect-pg-simple 10, each on a pg Pool set up the same way
// (max 10) on the shared server (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
// Rows: the read route with `rolling` (@fastify/session's default: every read is also a `store.set`,
// which write elision turns into at most an expiry refresh), the read route with `rolling: false`
// (a `store.get` alone) and the write route (the session changes on every request).
// Each scenario makes a table per server from plugins/session/sql/postgres.sql (same layout and
// index on both sides) before its servers start and drops them after.
// Statements per request: each bench server wraps its pool's `query` and counts the calls its store
// makes (one call is one statement on the server); the harness reads the count before and after each
// measured load (GET /bench/statements). Counted in the server rather than in pg_stat_database, whose
// transaction counts take in whatever else runs on the shared server (and reach it up to a second late).
import { loginOnce } from '../lib/session-login.js'
import { sqlSessionSetup } from '../lib/sql-server.js'
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const fleetModule = new URL('../servers/session-fleet-postgres.js', import.meta.url)
const anchorModule = new URL('../servers/session-anchor-connect-pg-simple.js', import.meta.url)

/** The fleet server and the connect-pg-simple anchor, with `env` for both and the row's goal. */
function servers (goal: number, env: Record<string, string> = {}): { fleet: ServerEntry, anchors: [AnchorEntry] } {
  return {
    fleet: { module: fleetModule, env },
    anchors: [{ label: 'connect-pg-simple 10', module: anchorModule, env, goal }]
  }
}

const common = { protocol: 'h1', setup: sqlSessionSetup('postgres'), prepare: loginOnce } as const
const notes = 'statements counted at the pool; pg Pool max 10 both'

export default defineScenarios([
  { ...common, name: 'session read (GET /me, rolling), PostgresStore on pg, HTTP/1.1 TLS', request: { path: '/me' }, notes, ...servers(1.5) },
  { ...common, name: 'session read (GET /me, rolling: false), PostgresStore on pg, HTTP/1.1 TLS', request: { path: '/me' }, notes, ...servers(1.0, { SESSION_ROLLING: 'false' }) },
  { ...common, name: 'session write (GET /visit), PostgresStore on pg, HTTP/1.1 TLS', request: { path: '/visit' }, notes, ...servers(1.0) }
])
