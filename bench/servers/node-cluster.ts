// The cluster scenarios' app (`lib/cluster-app.ts`) on node:cluster alone, with no process manager:
// the primary forks two workers on a port picked up front and does nothing else (no heartbeat, no
// restart, no drain), each worker builds the app and listens. With FLEET_WORKER=1 the app also
// registers fleetWorker, so a worker runs the very code a startCluster worker runs per request, and
// a row against it shows what startCluster's primary and worker set-up cost beyond node:cluster's
// round-robin: the floor of any process manager built on node:cluster.
import cluster, { type Worker } from 'node:cluster'
import { fleetWorker } from 'fastify-fleet/cluster'
import { buildClusterApp } from '../lib/cluster-app.js'
import { freePort } from '../lib/cluster-serve.js'
import type { ListeningMessage } from '../lib/serve.js'

const WORKERS = 2

if (cluster.isPrimary) {
  const port = await freePort()
  const workers: Worker[] = []
  let listening = 0
  for (let i = 0; i < WORKERS; i++) {
    const worker = cluster.fork({ PORT: String(port) })
    workers.push(worker)
    worker.once('listening', () => {
      if (++listening < WORKERS) return
      if (process.send !== undefined) process.send({ type: 'listening', port } satisfies ListeningMessage)
      else console.log(`listening ${port}`)
    })
  }
  const stop = (): void => {
    for (const worker of workers) worker.process.kill('SIGTERM')
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.once('disconnect', stop)
} else {
  const app = await buildClusterApp()
  if (process.env.FLEET_WORKER === '1') await app.register(fleetWorker)
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  // a bench server holds nothing worth draining: a worker ends on SIGTERM or when its primary is gone
  const exit = (): void => process.exit(0)
  process.once('SIGTERM', exit)
  process.once('disconnect', exit)
}
