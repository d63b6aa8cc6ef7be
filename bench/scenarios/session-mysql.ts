// Session stores on MySQL/MariaDB through @fastify/session over the HTTP/1.1 TLS fallback (autocannon):
// fastify-fleet's MySqlStore against express-mysql-session 3, each on a mysql2/promise pool set up
// the same way (connectionLimit 10) on the shared server (MYSQL_URL, default
// mysql://root@127.0.0.1:3306/test). Same rows as session-postgres.ts: the read route with `rolling`,
// the read route with `rolling: false` and the write route. The write route has a floor anchor too
// (servers/session-floor-mysql.ts): the same two statements with nothing else around them, and a
// row against MySqlStore itself on a pool made with `trace: false` (SESSION_MYSQL_TRACE), what
// mysql2's stack capture at every query costs (docs/session.md recommends turning it off).
// Each scenario makes a table per server from plugins/session/sql/mysql.sql (same layout and index on
// both sides; express-mysql-session's own has no index on `expires`) before its servers start and
// drops them after.
// Statements per request: each bench server wraps its pool's `query` and `execute` and counts the
// calls its store makes (one call is one COM_QUERY on the server); the harness reads the count before
// and after each measured load (GET /bench/statements). Counted in the server rather than in
// SHOW GLOBAL STATUS (Com_select, Com_insert …), which counts whatever else runs on the shared server.
import { loginOnce } from '../lib/session-login.js'
import { sqlSessionSetup } from '../lib/sql-server.js'
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const fleetModule = new URL('../servers/session-fleet-mysql.js', import.meta.url)
const anchorModule = new URL('../servers/session-anchor-express-mysql-session.js', import.meta.url)
const floorModule = new URL('../servers/session-floor-mysql.js', import.meta.url)

/** The fleet server and the express-mysql-session anchor, with `env` for both and the row's goal. */
function servers (goal: number, env: Record<string, string> = {}): { fleet: ServerEntry, anchors: [AnchorEntry] } {
  return {
    fleet: { module: fleetModule, env },
    anchors: [{ label: 'express-mysql-session 3', module: anchorModule, env, goal }]
  }
}

/**
 * The servers of a row with, after the anchor, the floor anchor (no goal: it does less than the store
 * must) and MySqlStore on a pool without mysql2's per-query stack (no goal: a cost, not a rival).
 */
function withFloor ({ fleet, anchors }: ReturnType<typeof servers>): { fleet: ServerEntry, anchors: [AnchorEntry, AnchorEntry, AnchorEntry] } {
  return {
    fleet,
    anchors: [
      ...anchors,
      { label: 'the least a store does: one SELECT, one upsert, JSON (the floor)', module: floorModule },
      { label: 'MySqlStore on a pool with trace: false (what mysql2\'s stack per query costs)', module: fleetModule, env: { SESSION_MYSQL_TRACE: 'false' } }
    ]
  }
}

const common = { protocol: 'h1', setup: sqlSessionSetup('mysql'), prepare: loginOnce } as const
const notes = 'statements counted at the pool; mysql2 connectionLimit 10 both'

export default defineScenarios([
  { ...common, name: 'session read (GET /me, rolling), MySqlStore on mysql2, HTTP/1.1 TLS', request: { path: '/me' }, notes, ...servers(1.5) },
  { ...common, name: 'session read (GET /me, rolling: false), MySqlStore on mysql2, HTTP/1.1 TLS', request: { path: '/me' }, notes, ...servers(1.0, { SESSION_ROLLING: 'false' }) },
  { ...common, name: 'session write (GET /visit), MySqlStore on mysql2, HTTP/1.1 TLS', request: { path: '/visit' }, notes, ...withFloor(servers(1.0)) }
])
