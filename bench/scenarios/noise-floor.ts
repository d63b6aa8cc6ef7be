// The machine's own noise: a server against a second process of the very same server. Both sides do
// the same work, so the true ratio is 1.00; the spread of these rows is how far two identical servers
// drift apart from round to round on this machine (the load generator, the servers and a backend
// share its cores), and their ratio is how far a median of such rounds can land from 1.00. Other rows
// seldom show a narrower spread here, and a row whose ratio differs from its goal by less than this
// row's ratio differs from 1.00 cannot be told from it.
// Rows: the hello-world server (`servers/hello-fleet.ts`) over HTTP/2 (h2load) and the HTTP/1.1
// fallback (autocannon); the session write route (the session changes on every request) on
// PostgresStore (one shared table) and on RedisStore (one throwaway `redis-server`), where a
// backend on the same two cores joins in.
import { loginOnce } from '../lib/session-login.js'
import { redisScenarioSetup } from '../lib/redis-server.js'
import { sqlSessionSetup } from '../lib/sql-server.js'
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const LABEL = 'the same server in a second process (noise floor)'

/** The server of `file` as the fleet side and as its only anchor. */
function twice (file: string): { fleet: ServerEntry, anchors: [AnchorEntry] } {
  const module = new URL(`../servers/${file}`, import.meta.url)
  return { fleet: { module }, anchors: [{ label: LABEL, module }] }
}

export default defineScenarios([
  { name: 'noise floor: hello-world HTTP/2 (h2load)', protocol: 'h2', ...twice('hello-fleet.js') },
  { name: 'noise floor: hello-world HTTP/1.1 fallback, TLS (autocannon)', protocol: 'h1', ...twice('hello-fleet.js') },
  {
    name: 'noise floor: session write (GET /visit), PostgresStore, HTTP/1.1 TLS',
    protocol: 'h1',
    request: { path: '/visit' },
    setup: sqlSessionSetup('postgres'),
    prepare: loginOnce,
    notes: 'both servers on one table',
    ...twice('session-fleet-postgres.js')
  },
  {
    name: 'noise floor: session write (GET /visit), RedisStore on ioredis, HTTP/1.1 TLS',
    protocol: 'h1',
    request: { path: '/visit' },
    setup: redisScenarioSetup,
    prepare: loginOnce,
    ...twice('session-fleet-redis.js')
  }
])
