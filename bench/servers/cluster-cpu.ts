// The app of the cluster scenarios (`lib/cluster-app.ts`: `GET /sales`, CPU-bound, and the hello
// route `GET /`) on `startCluster()`: `WORKERS=2` forks two workers sharing the port, `WORKERS=1`
// runs the same app in this one process (startCluster's in-process mode). `WORKER_FLAGS` (Node.js
// flags separated by spaces) is startCluster's `execArgv`.
import { buildClusterApp } from '../lib/cluster-app.js'
import { serveCluster, workerFlags } from '../lib/cluster-serve.js'

await serveCluster({ workers: Number(process.env.WORKERS ?? 2), build: buildClusterApp, execArgv: workerFlags() })
