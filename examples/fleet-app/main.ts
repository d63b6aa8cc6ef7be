import { randomBytes } from 'node:crypto'
import { startCluster, type PrimaryHandle } from 'fastify-fleet/cluster'
import { httpsRedirectServer } from 'fastify-fleet/hsts'
import { buildApp } from './app.js'
import { ConfigError, readConfig, type FleetAppConfig } from './config.js'

/**
 * The demo's entry point (`npm start`), run by the primary and by every worker: startCluster()
 * forks WORKERS workers serving the app (replaced when they die, drained on SIGTERM/SIGINT,
 * restarted one at a time on SIGHUP). Its `primary` step runs in the primary alone: the
 * HTTP→HTTPS redirect listener, and the session secret every worker gets over IPC (random for
 * this run when SESSION_SECRET is unset). WORKERS=1 (or FLEET_CLUSTER=0) runs everything in this
 * process.
 */
const log = (msg: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(JSON.stringify({ time: Date.now(), pid: process.pid, msg, ...extra }) + '\n')
}

const urlHost = (host: string): string => host.includes(':') ? `[${host}]` : host

const nothing = async (): Promise<void> => {}

async function runRedirect (config: FleetAppConfig): Promise<() => Promise<void>> {
  if (config.redirectPort === 0) return nothing
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

/** Resolves once `count` workers have said they are ready. */
async function allReady (handle: PrimaryHandle, count: number): Promise<void> {
  await new Promise<void>((resolve) => {
    let ready = 0
    const onReady = (): void => {
      if (++ready < count) return
      handle.off('ready', onReady)
      resolve()
    }
    handle.on('ready', onReady)
  })
}

async function main (): Promise<void> {
  const config = readConfig()
  // set by the primary step; startCluster closes it last
  let closeRedirect = nothing
  const handle = await startCluster({
    workers: config.workers,
    listen: { port: config.port, host: config.host },
    readyTimeout: config.readyTimeout,
    primary: async () => {
      if (config.sessionSecret === undefined) log('SESSION_SECRET is not set: sessions use a random secret for this run')
      closeRedirect = await runRedirect(config)
      return { sessionSecret: config.sessionSecret ?? randomBytes(32).toString('base64url') }
    },
    build: async ({ workerId, shared }) => await buildApp({ config, sessionSecret: shared.sessionSecret, workerId, logger: { level: config.logLevel } }),
    onStop: async () => { await closeRedirect() }
  })
  if (handle.role === 'worker') return
  // the primary forks and goes on at once: "listening" once every worker is
  if (handle.role === 'primary') await allReady(handle, config.workers)
  log('listening', { url: `${config.protocol}://${urlHost(config.host)}:${config.port}`, workers: config.workers })
}

main().catch((err: Error) => {
  log(err instanceof ConfigError ? 'invalid configuration' : 'start-up failed', { err: err.message, code: (err as { code?: string }).code })
  process.exit(1)
})
