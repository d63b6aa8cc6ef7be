import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { devCertificate } from 'fastify-fleet/server'
import { APP_HOSTS, LISTEN_ADDRESS, PROXY_ADDRESS, REDIS_STORES, type MultiHostConfig } from './config.js'
import { nginxConf } from './nginx-conf.js'
import { AppHosts, type Log } from './hosts.js'
import { accepts, freePort, ManagedProcess, redisAnswers } from './processes.js'
import { startSentinel } from './redis-sentinel.js'

export type { Log }

/** What runs, and how to stop it. */
export interface MultiHost {
  /** The balancer's HTTPS address. */
  url: string
  hosts: Array<{ name: string, url: string, pid: number }>
  /** Every process it started, by name (a host started again: its new process). */
  readonly processes: ManagedProcess[]
  /** The ports of the Redis processes it started, by name (none with REDIS_URL or REDIS_SENTINELS). */
  redis: Record<string, number>
  /** A rolling restart of each host's workers in turn (what SIGHUP to the launcher does). */
  reload: () => Promise<void>
  /** Stops nginx, the hosts and Redis (each by its pid), removes the run folder. Idempotent. */
  stop: () => Promise<void>
}

const START_TIMEOUT = 120_000
// the demo's entry point, run the same way as this module (.ts under a TypeScript loader, .js from dist/)
const APP_MAIN = fileURLToPath(new URL(`../fleet-app/main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

/** Where the hosts find Redis: their variables for it, and the ports of the Redis processes started here, by name. */
interface RedisSetup { env: Record<string, string>, ports: Record<string, number> }

/**
 * A Redis for the sessions: REDIS_URL; sentinels of your own (REDIS_SENTINELS, which the hosts read
 * from the environment); with SENTINEL=1, a master, a replica and a sentinel of our own; else a
 * redis-server of our own. Ours keep nothing on disk and listen on free loopback ports.
 */
async function redis (config: MultiHostConfig, runDir: string, started: ManagedProcess[]): Promise<RedisSetup> {
  if (config.redisUrl !== null) return { env: { REDIS_URL: config.redisUrl }, ports: {} }
  if (config.redisSentinels !== null) return { env: {}, ports: {} }
  if (config.sentinel) return await startSentinel(runDir, started, START_TIMEOUT)
  const port = await freePort()
  const server = await ManagedProcess.start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cwd: runDir })
  started.push(server)
  await server.waitUntil(async () => await redisAnswers('127.0.0.1', port), 'PONG', START_TIMEOUT)
  return { env: { REDIS_URL: `redis://127.0.0.1:${port}` }, ports: { redis: port } }
}

/** The three app hosts: each a startCluster of the demo on plain HTTP, trusting the balancer only. */
function appHosts (config: MultiHostConfig, redisEnv: Record<string, string>, log: Log): AppHosts {
  const secret = process.env.SESSION_SECRET === undefined || process.env.SESSION_SECRET === ''
    ? randomBytes(32).toString('base64url') // one secret for every host of this run
    : process.env.SESSION_SECRET
  const specs = APP_HOSTS.map(({ name, address }) => {
    const env = {
      ...process.env,
      HOST: address,
      PORT: String(config.appPort),
      HOST_NAME: name,
      PROTOCOL: 'http',
      TRUST_PROXY: PROXY_ADDRESS,
      PUBLIC_PORT: String(config.port),
      REDIRECT_PORT: '0',
      TLS_CERT: '',
      TLS_KEY: '',
      WORKERS: String(config.workers),
      SESSION_STORE: config.sessionStore,
      SESSION_SECRET: secret,
      ...redisEnv
    }
    return { name, env }
  })
  const command = { command: process.execPath, args: [...process.execArgv, APP_MAIN] }
  return new AppHosts(specs, { ...command, workers: config.workers, log, startTimeout: START_TIMEOUT })
}

/** nginx on LISTEN_ADDRESS:PORT with the rendered template, TLS from TLS_CERT/TLS_KEY or the development certificate. */
async function nginx (config: MultiHostConfig, runDir: string, started: ManagedProcess[]): Promise<ManagedProcess> {
  let tls = config.tls
  if (tls === null) {
    const dev = await devCertificate()
    tls = { cert: join(runDir, 'cert.pem'), key: join(runDir, 'key.pem') }
    await writeFile(tls.cert, dev.cert)
    await writeFile(tls.key, dev.key, { mode: 0o600 })
  }
  const conf = join(runDir, 'nginx.conf')
  await writeFile(conf, await nginxConf({
    RUN_DIR: runDir,
    LISTEN_ADDRESS,
    PORT: config.port,
    REDIRECT_PORT: config.redirectPort,
    TLS_CERT: tls.cert,
    TLS_KEY: tls.key,
    PROXY_BIND: PROXY_ADDRESS,
    APP_PORT: config.appPort,
    STICKY: config.sticky
  }))
  const server = await ManagedProcess.start('nginx', config.nginx, ['-p', runDir, '-c', conf, '-e', join(runDir, 'error.log')])
  started.push(server)
  // nginx writes its pid file once it holds its ports (another program on the port would accept too)
  const pidFile = join(runDir, 'nginx.pid')
  await server.waitUntil(async () => existsSync(pidFile) && await accepts(LISTEN_ADDRESS, config.port), `HTTPS on port ${config.port}`, START_TIMEOUT)
  return server
}

/**
 * Starts Redis (unless REDIS_URL is set, or the store needs none), nginx and the three app hosts,
 * in that order; when one fails, stops what had started and rejects.
 */
export async function startMultiHost (config: MultiHostConfig, log: Log): Promise<MultiHost> {
  const runDir = await mkdtemp(join(tmpdir(), 'fleet-multi-host-'))
  // nginx's worker processes (run as `nobody` when started by root) reach their temporary folders in it
  await chmod(runDir, 0o755)
  // nginx and Redis; the hosts are kept by `hosts`
  const started: ManagedProcess[] = []
  let hosts: AppHosts | undefined
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      // the balancer first (no new requests), then the hosts (they drain), then Redis
      const stopAll = async (list: ManagedProcess[]): Promise<void> => { await Promise.all(list.map(async (p) => await p.stop())) }
      await stopAll(started.filter((p) => p.name === 'nginx'))
      await hosts?.stop()
      await stopAll(started.filter((p) => p.name !== 'nginx'))
      await rm(runDir, { recursive: true, force: true })
    })()
    await stopping
  }
  try {
    const redisSetup = REDIS_STORES.includes(config.sessionStore) ? await redis(config, runDir, started) : { env: {}, ports: {} }
    // nginx before the hosts: a port in use fails at once, not after the hosts started
    await nginx(config, runDir, started)
    hosts = appHosts(config, redisSetup.env, log)
    await hosts.start()
    const running = hosts
    return {
      url: `https://${LISTEN_ADDRESS}:${config.port}`,
      hosts: running.processes.map((h, i) => ({ name: h.name, url: `http://${APP_HOSTS[i]?.address as string}:${config.appPort}`, pid: h.pid })),
      redis: redisSetup.ports,
      get processes () { return [...started.filter((p) => p.name === 'nginx'), ...running.processes, ...started.filter((p) => p.name !== 'nginx')] },
      reload: async () => { await running.reload() },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
