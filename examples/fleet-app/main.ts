import cluster, { type Worker } from 'node:cluster'
import { randomBytes } from 'node:crypto'
import { buildApp } from './app.js'
import { ConfigError, readConfig, type FleetAppConfig } from './config.js'
import { httpsRedirectServer } from 'fastify-fleet/hsts'

/**
 * The demo's entry point (`npm start`). Interim process model until fastify-fleet/cluster
 * lands: the primary forks WORKERS workers (respawned when they die) and runs the HTTP→HTTPS
 * redirect listener; WORKERS=1 runs everything in this process.
 */
const log = (msg: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(JSON.stringify({ time: Date.now(), pid: process.pid, msg, ...extra }) + '\n')
}

const urlHost = (host: string): string => host.includes(':') ? `[${host}]` : host

async function runWorker (config: FleetAppConfig, secret: string): Promise<() => Promise<void>> {
  const app = await buildApp({ config, sessionSecret: secret, logger: { level: config.logLevel } })
  await app.listen({ port: config.port, host: config.host })
  return async () => { await app.close() }
}

async function runRedirect (config: FleetAppConfig): Promise<() => Promise<void>> {
  if (config.redirectPort === 0) return async () => {}
  const redirect = await httpsRedirectServer({
    port: config.redirectPort,
    host: config.host,
    httpsPort: config.port,
    allowedHosts: config.allowedHosts,
    mode: config.production ? 'production' : 'development'
  })
  log('redirect listening', { url: `http://${urlHost(config.host)}:${redirect.port}`, allowedHosts: config.allowedHosts })
  return redirect.close
}

/** The first SIGTERM or SIGINT stops gracefully; a second one ends the process at once. */
function onSignals (stop: () => Promise<void>): void {
  const handler = (signal: string): void => {
    process.off('SIGTERM', handler)
    process.off('SIGINT', handler)
    log('stopping', { signal })
    stop().then(() => process.exit(0),
      /* c8 ignore next -- close() failing cannot be provoked from outside the process */
      (err: Error) => { log('stop failed', { err: err.message }); process.exit(1) })
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}

async function main (): Promise<void> {
  const config = readConfig()
  if (cluster.isWorker) {
    const stop = await runWorker(config, process.env.FLEET_APP_SESSION_SECRET as string)
    onSignals(stop)
    return
  }
  const secret = config.sessionSecret ?? randomBytes(32).toString('base64url')
  if (config.sessionSecret === undefined) log('SESSION_SECRET is not set: sessions use a random secret for this run')

  if (config.workers === 1) {
    const stopApp = await runWorker(config, secret)
    const stopRedirect = await runRedirect(config)
    log('listening', { url: `https://${urlHost(config.host)}:${config.port}`, workers: 1 })
    onSignals(async () => { await stopRedirect(); await stopApp() })
    return
  }

  let stopping = false
  const fork = (): void => { cluster.fork({ FLEET_APP_SESSION_SECRET: secret }) }
  cluster.on('listening', (worker) => log('worker ready', { worker: worker.id, workerPid: worker.process.pid }))
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    log('worker died, replacing it', { worker: worker.id, code, signal })
    setTimeout(fork, 1000).unref()
  })
  for (let i = 0; i < config.workers; i++) fork()
  const stopRedirect = await runRedirect(config)
  log('listening', { url: `https://${urlHost(config.host)}:${config.port}`, workers: config.workers })
  onSignals(async () => {
    stopping = true
    await stopRedirect()
    await Promise.all(Object.values(cluster.workers as Record<string, Worker>).map(async (worker) => await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve())
      worker.kill('SIGTERM')
    })))
  })
}

main().catch((err: Error) => {
  log(err instanceof ConfigError ? 'invalid configuration' : 'start-up failed', { err: err.message, code: (err as { code?: string }).code })
  process.exitCode = 1
  if (cluster.isWorker) process.exit(1)
})
