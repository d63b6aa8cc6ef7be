// fastify-fleet/cluster on a CPU-bound route: the same app (servers/cluster-cpu.ts: `GET /sales`
// groups 4000 orders and renders the report as HTML with its ETag, about 1.5 ms of JavaScript per
// request) served by `startCluster({ workers: 2 })` against `startCluster({ workers: 1 })`, which
// runs it in one process. The load generator shares the machine's cores with the servers, so on a 2-core machine
// whatever it spends comes out of the two workers' share: h2load (C, HTTP/2 multiplexing) costs the
// least; autocannon (Node, HTTP/1.1 over TLS, one request per connection at a time) more.
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const module = new URL('../servers/cluster-cpu.js', import.meta.url)
const fleet: ServerEntry = { module, env: { WORKERS: '2' } }
const anchors: [AnchorEntry, ...AnchorEntry[]] = [{ label: 'one process (workers: 1)', module, env: { WORKERS: '1' }, goal: 1.6 }]
const notes = 'the goal is for 2 cores'

export default defineScenarios([
  { name: 'cluster, CPU-bound route (~1.5 ms), 2 workers, HTTP/2 (h2load)', protocol: 'h2', request: { path: '/sales?from=0&to=89' }, fleet, anchors, notes },
  { name: 'cluster, CPU-bound route (~1.5 ms), 2 workers, HTTP/1.1 TLS (autocannon)', protocol: 'h1', request: { path: '/sales?from=0&to=89' }, fleet, anchors, notes }
])
