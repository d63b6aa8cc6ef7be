// The session app (lib/session-app.ts) on `startCluster()`, for the ClusterStore scenario. Both
// setups are the same cluster: two forked workers (a cluster forks at least two), the first takes
// the whole load, the second listens on a port of its own and stays idle. Only the store differs:
// - `SESSION_STORE=cluster`: the sessions live in the primary (ClusterStore), so every store call
//   of the loaded worker is an IPC round trip;
// - `SESSION_STORE=memory`: the sessions live in the loaded worker (fastify-fleet's MemoryStore).
import { ClusterStore, MemoryStore } from 'fastify-fleet/session'
import { serveCluster } from '../lib/cluster-serve.js'
import { sessionApp } from '../lib/session-app.js'

const kind = process.env.SESSION_STORE
if (kind !== 'cluster' && kind !== 'memory') throw new Error(`SESSION_STORE must be cluster or memory, got ${kind}`)

await serveCluster({
  workers: 2,
  loaded: 1,
  build: async () => await sessionApp(kind === 'cluster' ? new ClusterStore() : new MemoryStore())
})
