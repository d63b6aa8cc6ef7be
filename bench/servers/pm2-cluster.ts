// The cluster scenarios' app (`lib/cluster-app.ts`) under PM2 cluster mode (`pm2/app.ts`, `INSTANCES`
// instances, default 2, started with the Node.js flags of `WORKER_FLAGS`), as a bench server: it
// starts a PM2 of its own (PM2_HOME in a temporary folder, `pm2/pm2.ts`) on a free port picked up
// front, and reports that port and the PM2 daemon's pid (the process tree whose CPU is the server's)
// once every instance said `ready`. On SIGTERM, SIGINT, IPC disconnect, a failure or any exit it
// kills that daemon and its instances and removes the folder.
import { freePort, workerFlags } from '../lib/cluster-serve.js'
import type { ListeningMessage } from '../lib/serve.js'
import { errorLog, pm2Cluster } from '../pm2/pm2.js'

const pm2 = pm2Cluster({ instances: Number(process.env.INSTANCES ?? 2), port: await freePort(), nodeArgs: workerFlags() })
process.on('exit', pm2.kill)
const stop = (): void => process.exit(0)
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
process.once('disconnect', stop)

try {
  await pm2.start()
  const daemon = pm2.daemonPid()
  const online = (await pm2.list()).filter((p) => p.status === 'online').length
  if (daemon === null || online !== pm2.instances) throw new Error(`${online} of ${pm2.instances} instances online`)
  if (process.send !== undefined) process.send({ type: 'listening', port: pm2.port, pid: daemon } satisfies ListeningMessage)
  else {
    console.log(`listening ${pm2.port} (PM2 daemon pid ${daemon}, home ${pm2.dir}/home); Ctrl-C stops it`)
    setInterval(() => {}, 60_000) // run by hand: keep PM2 up until a signal
  }
} catch (err) {
  process.stderr.write(`pm2: ${(err as Error).message}\n${errorLog(pm2)}\n`)
  process.exit(1)
}
