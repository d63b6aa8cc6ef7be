import cluster from 'node:cluster'
import { createServer } from 'node:net'
import { ENV, startCluster, type BuildContext, type ClusterLogger } from 'fastify-fleet/cluster'
import type { ListeningMessage } from './serve.js'

type AnyFastify = Awaited<ReturnType<Parameters<typeof startCluster>[0]['build']>>

/** Options of `serveCluster()`. */
export interface ServeClusterOptions {
  /** `startCluster()`'s `workers`: `1` runs the app in the server process itself. */
  workers: number
  /** Builds the app of a worker (not listening yet: `startCluster()` listens). */
  build: (context: BuildContext) => AnyFastify | Promise<AnyFastify>
  /**
   * How many workers take the load on the reported port; the others listen on a port of their own
   * that no load reaches (a cluster needs two workers to fork at all, so a one-worker cluster is
   * `workers: 2, loaded: 1`).
   * @default workers
   */
  loaded?: number
  /** `startCluster()`'s `execArgv`: extra Node.js flags of the workers. @default [] */
  execArgv?: readonly string[]
}

/** The Node.js flags a cluster bench server gives its workers: `WORKER_FLAGS`, separated by spaces. */
export function workerFlags (env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.WORKER_FLAGS ?? '').split(' ').filter((flag) => flag !== '')
}

/** Milliseconds a draining worker gets: the harness kills a server 3 s after its SIGTERM. */
const SHUTDOWN_TIMEOUT = 1000

/** The primary's log: state changes are not printed (stdout carries the results), problems go to stderr. */
const quietLogger: ClusterLogger = {
  info: () => {},
  warn: (obj, msg) => { process.stderr.write(`cluster: ${msg} ${JSON.stringify(obj)}\n`) },
  error: (obj, msg) => { process.stderr.write(`cluster: ${msg} ${JSON.stringify(obj)}\n`) }
}

/** A free loopback port, bound by this process alone (not through a cluster primary) and released. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve)
  })
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

/** Reports the port to the harness (`{ type: 'listening', port }` over IPC), or prints it when run by hand. */
function report (port: number): void {
  if (process.send !== undefined) process.send({ type: 'listening', port } satisfies ListeningMessage)
  else console.log(`listening ${port}`)
}

/**
 * Entry point helper of the bench servers that run on `startCluster()`: what `serve()` is to a
 * plain server. The primary (or, with `workers: 1`, the single process) reports the loaded port
 * once every worker is ready. SIGTERM from the harness drains the workers (the primary's own
 * signal handling) within `SHUTDOWN_TIMEOUT`; a harness that goes away stops the cluster too, and
 * workers whose primary dies drain and exit on their own.
 */
export async function serveCluster ({ workers, build, loaded = workers, execArgv = [] }: ServeClusterOptions): Promise<void> {
  const port = Number(process.env.PORT ?? 0)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be 0..65535, got ${process.env.PORT}`)
  // the workers of slots 0 … loaded - 1 share the reported port; a replacement (a rolling restart's,
  // or a respawn's) takes the slot, and so the port, of the worker it replaces
  const idle = cluster.isWorker && Number(process.env[ENV.slot]) >= loaded
  const listenPort = idle ? await freePort() : port

  const ports = new Map<number, number>()
  if (cluster.isPrimary && workers > 1) {
    cluster.on('listening', (worker, address) => { ports.set(worker.id, address.port) })
  }
  const handle = await startCluster({
    workers,
    build,
    execArgv,
    listen: { port: listenPort, host: '127.0.0.1' },
    shutdownTimeout: SHUTDOWN_TIMEOUT,
    readyTimeout: 20_000,
    logger: quietLogger
  })
  if (handle.role === 'worker') return

  const stopOnDisconnect = (): void => {
    process.once('disconnect', () => { handle.stop().then((code) => process.exit(code), () => process.exit(1)) })
  }
  const fail = (err: unknown): never => {
    process.stderr.write(`cluster: ${(err as Error)?.message ?? String(err)}\n`)
    process.exit(1)
  }
  if (handle.role === 'primary') {
    let ready = 0
    handle.on('ready', () => {
      if (++ready !== workers) return
      const loadedPorts = new Set([...ports].filter(([id]) => id <= loaded).map(([, p]) => p))
      if (loadedPorts.size !== 1) fail(new Error(`the loaded workers listen on ${loadedPorts.size} ports`))
      stopOnDisconnect()
      report([...loadedPorts][0]!)
    })
    return
  }
  const address = handle.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address')
  stopOnDisconnect()
  report(address.port)
}
