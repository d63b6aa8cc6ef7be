// The session app (lib/session-app.ts) on `startCluster()`, for the ClusterStore scenario. The
// compared setups run the app in one process each:
// - `SESSION_STORE=cluster`: two forked workers (a cluster forks at least two), the first takes the
//   whole load, the second listens on a port of its own and stays idle; the sessions live in the
//   primary (ClusterStore), so every store call of the loaded worker is an IPC round trip.
// - `SESSION_STORE=memory`: `workers: 1`, the app in the server process itself (startCluster's
//   in-process mode, so it has the same fleetWorker plugin), sessions in fastify-fleet's MemoryStore.
import { ClusterStore, MemoryStore } from 'fastify-fleet/session'
import { serveCluster } from '../lib/cluster-serve.js'
import { sessionApp } from '../lib/session-app.js'

const kind = process.env.SESSION_STORE
if (kind !== 'cluster' && kind !== 'memory') throw new Error(`SESSION_STORE must be cluster or memory, got ${kind}`)

await serveCluster({
  workers: kind === 'cluster' ? 2 : 1,
  loaded: 1,
  build: async () => await sessionApp(kind === 'cluster' ? new ClusterStore() : new MemoryStore())
})
