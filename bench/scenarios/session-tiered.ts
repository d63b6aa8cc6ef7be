// TieredStore over RedisStore against RedisStore alone, through @fastify/session, on a read-heavy
// route: `GET /mix` (lib/session-app.ts) reads the session and changes it on every 20th request
// (95 % reads, 5 % writes; @fastify/session's default `rolling`). TieredStore answers the reads from
// its near copies (a fresh copy each time) and sends a write to Redis with its invalidation
// (`PUBLISH`); RedisStore alone reads Redis on every request (one `GETEX`). A second anchor,
// MemoryStore alone, is the ceiling: no near cache does less per request, so MemoryStore's ratio
// over RedisStore alone bounds TieredStore's. The app runs as a host behind a balancer that ends TLS,
// loaded over HTTP/2 without TLS by h2load: over HTTP/1.1, autocannon spends more CPU per request
// than the server and is what limits both (the server idles about 45 % of the time), so the ratio
// would measure autocannon. The scenario starts its own throwaway redis-server; the notes give Redis
// commands per request. A third anchor is TieredStore itself with `invalidation: false`: its row
// is what the invalidation channel (a PUBLISH per write, and the messages heard) costs. A fourth is
// MemoryStore writing changed sessions through to RedisStore and nothing else
// (servers/session-tiered-write-through.ts): less than the issue requires of a near cache that writes
// through, without TieredStore's own work; its ratio over RedisStore alone (TieredStore's ratio over
// RedisStore divided by its ratio over this anchor) is above what the goal row can read. The stale
// window of invalidation is measured apart: bench/tiered/.
import { connect } from 'node:http2'
import { redisScenarioSetup } from '../lib/redis-server.js'
import { defineScenarios, type Scenario } from '../lib/scenario.js'

const setup = redisScenarioSetup

/** `loginOnce` over HTTP/2 without TLS (h2c), which the HTTP/1.1 request of `loginOnce` cannot speak. */
const loginOnceH2c: Scenario['prepare'] = async (target) => {
  const session = connect(target.origin)
  try {
    const cookie = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/login', 'content-type': 'application/json' })
      req.once('response', (headers) => {
        const status = headers[':status']
        if (status !== 200) reject(new Error(`login answered ${String(status)}`))
        else resolve((headers['set-cookie'] ?? []).map((c) => c.split(';')[0] as string).join('; '))
      })
      req.once('error', reject)
      req.end('{"user":"bench"}')
    })
    return { headers: { cookie } }
  } finally {
    session.close()
  }
}

const servers = (env: Record<string, string>): Pick<Scenario, 'fleet' | 'anchors'> => ({
  fleet: { module: new URL('../servers/session-tiered-fleet.js', import.meta.url), env },
  anchors: [
    { label: 'RedisStore alone', module: new URL('../servers/session-tiered-anchor.js', import.meta.url), env, goal: 1.5 },
    { label: 'MemoryStore (the ceiling of any near cache)', module: new URL('../servers/session-tiered-memory.js', import.meta.url), env },
    { label: 'TieredStore with invalidation: false (what the channel costs)', module: new URL('../servers/session-tiered-fleet.js', import.meta.url), env: { ...env, TIERED_INVALIDATION: 'false' } },
    { label: 'MemoryStore writing changed sessions through to RedisStore (more than a write-through near cache can reach)', module: new URL('../servers/session-tiered-write-through.js', import.meta.url), env }
  ]
})

export default defineScenarios({
  name: 'session read-heavy (GET /mix: 95 % reads, 5 % writes), TieredStore over RedisStore, HTTP/2 h2c',
  protocol: 'h2',
  scheme: 'http',
  request: { path: '/mix' },
  setup,
  prepare: loginOnceH2c,
  ...servers({ HTTP2: '1' }),
  notes: 'Redis commands per request: fleet a SET and a PUBLISH per write, RedisStore alone a GETEX per read and a SET per write ' +
    '(and a SET for most rolled reads: while a write of the session is under way, RedisStore\'s write elision writes every set)'
})
