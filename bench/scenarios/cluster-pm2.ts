// fastify-fleet/cluster against PM2 cluster mode, 2 workers each, the same app (`lib/cluster-app.ts`,
// HTTP/2 + TLS with `allowHTTP1`): `startCluster({ workers: 2 })` (servers/cluster-cpu.ts) against
// PM2 7 running 2 instances of it (servers/pm2-cluster.ts: a PM2 of its own, the ecosystem file of
// pm2/ecosystem.ts with `wait_ready`, `listen_timeout`, `kill_timeout`). Both primaries hand the
// connections to the workers with node:cluster's round-robin and then stay out of the requests, so
// what can differ is per request in the workers: fleetWorker's hooks and event-loop monitor on one
// side, PM2's wrapper of the instance on the other. The hello route (`GET /`) shows that; on the
// CPU-bound `/sales` route (~1.5 ms of the app's own work per request) it would vanish in the
// route's cost and both rows would read 1.0× whatever the managers do. The rolling restart and the
// memory of both are a section of their own (pm2/compare.ts), after the table. The second anchor runs
// the PM2 instances with fleetWorker registered too: the per-request cost of the drain's tracking
// (what lets a rolling restart fail no request) is then on both sides, and the ratio is the managers'.
// Over HTTP/2 a saturated worker's heap is in one of two states (bench/README.md, "Two states of an
// HTTP/2 server's heap"), and which one depends on the old generation's headroom, which PM2's
// wrapper of the instance happens to enlarge. The third scenario gives both sides' workers the same
// headroom (`--initial-old-space-size=64`: startCluster's `execArgv`, PM2's `node_args`), so that
// its ratio is the managers' and not V8's.
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const fleet: ServerEntry = { module: new URL('../servers/cluster-cpu.js', import.meta.url), env: { WORKERS: '2' } }
const pm2 = new URL('../servers/pm2-cluster.js', import.meta.url)
const anchors: [AnchorEntry, ...AnchorEntry[]] = [
  { label: 'PM2 cluster mode (2 instances)', module: pm2, env: { INSTANCES: '2' }, goal: 1.0 },
  { label: 'PM2 cluster mode (2 instances), app with fleetWorker', module: pm2, env: { INSTANCES: '2', FLEET_WORKER: '1' } },
  { label: 'node:cluster alone (2 workers), app with fleetWorker', module: new URL('../servers/node-cluster.js', import.meta.url), env: { FLEET_WORKER: '1' } }
]
const notes = 'hello route: what the process manager adds per request; server CPU includes the PM2 daemon and its instances'

/** The Node.js flags of the third scenario's workers, on both sides. */
const HEADROOM_FLAGS = '--initial-old-space-size=64'
const headroom = { WORKER_FLAGS: HEADROOM_FLAGS }

export default defineScenarios([
  { name: 'cluster vs PM2, hello route, 2 workers, HTTP/2 (h2load)', protocol: 'h2', fleet, anchors, notes },
  { name: 'cluster vs PM2, hello route, 2 workers, HTTP/1.1 TLS (autocannon)', protocol: 'h1', fleet, anchors, notes },
  {
    name: `cluster vs PM2, hello route, 2 workers, HTTP/2 (h2load), workers on both sides with ${HEADROOM_FLAGS}`,
    protocol: 'h2',
    fleet: { ...fleet, env: { ...fleet.env, ...headroom } },
    anchors: [{ label: 'PM2 cluster mode (2 instances)', module: pm2, env: { INSTANCES: '2', ...headroom }, goal: 1.0 }],
    notes: `${notes}; both sides' workers run with ${HEADROOM_FLAGS} (startCluster's execArgv, PM2's node_args)`
  }
])
