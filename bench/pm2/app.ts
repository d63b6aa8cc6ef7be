// One PM2 cluster-mode instance of the cluster scenarios' app (`lib/cluster-app.ts`), written the way
// PM2's graceful start/shutdown guide says: listen, then `process.send('ready')` (the ecosystem file
// sets `wait_ready`); on SIGINT (what PM2 sends to stop or replace an instance) close the app with
// `app.close()` and exit, PM2 killing it `kill_timeout` ms later if that has not happened yet.
// PM2's daemon is the cluster primary here: the port is fixed up front (`PORT`), every instance
// listens on it and node:cluster hands the connections round-robin to them.
// With FLEET_WORKER=1 the app also registers fleetWorker (what startCluster() adds to every worker:
// the drain's tracking of connections and responses), so the two managers run the same code per request.
import { fleetWorker } from 'fastify-fleet/cluster'
import { buildClusterApp } from '../lib/cluster-app.js'

const port = Number(process.env.PORT)
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new RangeError(`PORT must be 1..65535, got ${process.env.PORT}`)

const app = await buildClusterApp()
if (process.env.FLEET_WORKER === '1') await app.register(fleetWorker)
await app.listen({ port, host: '127.0.0.1' })
process.send?.('ready')

process.once('SIGINT', () => {
  app.close().then(() => process.exit(0), () => process.exit(1))
})
