import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { devCertificate } from 'fastify-fleet/server'
import { APP_HOSTS, LISTEN_ADDRESS, PROXY_ADDRESS, REDIS_STORES, type MultiHostConfig } from './config.js'
import { nginxConf } from './nginx-conf.js'
import { accepts, freePort, ManagedProcess, redisAnswers, type ChildLine } from './processes.js'

/** The launcher's log: one JSON object a line. */
export type Log = (msg: string, extra?: Record<string, unknown>) => void

/** What runs, and how to stop it. */
export interface MultiHost {
  /** The balancer's HTTPS address. */
  url: string
  hosts: Array<{ name: string, url: string, pid: number }>
  /** Every process it started, by name. */
  processes: ManagedProcess[]
  /** Stops nginx, the hosts and Redis (each by its pid), removes the run folder. Idempotent. */
  stop: () => Promise<void>
}

const START_TIMEOUT = 120_000
// the demo's entry point, run the same way as this module (.ts under a TypeScript loader, .js from dist/)
const APP_MAIN = fileURLToPath(new URL(`../fleet-app/main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

/** A Redis for the sessions: REDIS_URL, or a redis-server of our own (no persistence) on a free port. */
async function redis (config: MultiHostConfig, runDir: string, started: ManagedProcess[]): Promise<string> {
  if (config.redisUrl !== null) return config.redisUrl
  // SENTINEL=1 (later): a master, a replica and a sentinel started here, and a sentinel URL returned
  const port = await freePort()
  const server = await ManagedProcess.start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cwd: runDir })
  started.push(server)
  await server.waitUntil(async () => await redisAnswers('127.0.0.1', port), 'PONG', START_TIMEOUT)
  return `redis://127.0.0.1:${port}`
}

/** The three app hosts: each a startCluster of the demo on plain HTTP, trusting the balancer only. */
async function appHosts (config: MultiHostConfig, redisUrl: string | null, log: Log, started: ManagedProcess[]): Promise<ManagedProcess[]> {
  const secret = process.env.SESSION_SECRET === undefined || process.env.SESSION_SECRET === ''
    ? randomBytes(32).toString('base64url') // one secret for every host of this run
    : process.env.SESSION_SECRET
  const hosts = await Promise.all(APP_HOSTS.map(async ({ name, address }) => {
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
      ...(redisUrl === null ? {} : { REDIS_URL: redisUrl })
    }
    const host = await ManagedProcess.start(name, process.execPath, [...process.execArgv, APP_MAIN], {
      env,
      onLine: ({ msg, ...rest }: ChildLine) => { log(String(msg), { ...rest, host: name }) }
    })
    started.push(host)
    return host
  }))
  await Promise.all(hosts.map(async (host) => {
    await host.waitForLines((l) => l.msg === 'listening', 1, 'listening', START_TIMEOUT)
    // with a cluster, every worker: round-robin should reach them all from the first request
    if (config.workers > 1) await host.waitForLines((l) => l.msg === 'worker ready', config.workers, `${config.workers} workers ready`, START_TIMEOUT)
  }))
  return hosts
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
  const started: ManagedProcess[] = []
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      // the balancer first (no new requests), then the hosts (they drain), then Redis
      for (const names of [['nginx'], APP_HOSTS.map((h) => h.name as string), ['redis']]) {
        await Promise.all(started.filter((p) => names.includes(p.name)).map(async (p) => await p.stop()))
      }
      await rm(runDir, { recursive: true, force: true })
    })()
    await stopping
  }
  try {
    const redisUrl = REDIS_STORES.includes(config.sessionStore) ? await redis(config, runDir, started) : null
    // nginx before the hosts: a port in use fails at once, not after the hosts started
    await nginx(config, runDir, started)
    const hosts = await appHosts(config, redisUrl, log, started)
    return {
      url: `https://${LISTEN_ADDRESS}:${config.port}`,
      hosts: hosts.map((h, i) => ({ name: h.name, url: `http://${APP_HOSTS[i]?.address as string}:${config.appPort}`, pid: h.pid })),
      processes: started,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
