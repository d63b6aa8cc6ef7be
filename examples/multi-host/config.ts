import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { ConfigError, portSetting, sentinelsSetting, SESSION_STORES, type SessionStoreName } from '../fleet-app/config.js'

/** The three app hosts: loopback addresses standing in for three machines. */
export const APP_HOSTS = [
  { name: 'app-1', address: '127.0.0.11' },
  { name: 'app-2', address: '127.0.0.12' },
  { name: 'app-3', address: '127.0.0.13' }
] as const

/** The balancer's own address towards the apps (nginx `proxy_bind`): the only one they trust. */
export const PROXY_ADDRESS = '127.0.0.10'

/** Where clients reach the balancer. */
export const LISTEN_ADDRESS = '127.0.0.1'

/** The launcher's settings, read from the environment. */
export interface MultiHostConfig {
  /** nginx's HTTPS port (HTTP/2 and HTTP/1.1). */
  port: number
  /** nginx's plain-HTTP port, redirected to HTTPS by the apps; 0: none. */
  redirectPort: number
  /** The port of every app host. */
  appPort: number
  /** Workers per app host. */
  workers: number
  sessionStore: SessionStoreName
  /** REDIS_URL, or `null`: the launcher runs its own Redis (when the store needs Redis). */
  redisUrl: string | null
  /** REDIS_SENTINELS, sentinels of your own (the hosts read it from the environment; the launcher runs no Redis), or `null`. */
  redisSentinels: Array<{ host: string, port: number }> | null
  /** SENTINEL=1: its own Redis is a master, a replica and a sentinel, and the hosts ask the sentinel for the master. */
  sentinel: boolean
  /** nginx hashes each client to one host (STICKY=1). */
  sticky: boolean
  /** TLS_CERT/TLS_KEY (file paths) for nginx, or `null`: the development certificate. */
  tls: { cert: string, key: string } | null
  /** The nginx executable. */
  nginx: string
}

/** The stores that keep sessions in Redis. */
export const REDIS_STORES: readonly SessionStoreName[] = ['redis', 'tiered']

function flag (env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name] ?? ''
  if (raw !== '' && raw !== '0' && raw !== '1') throw new ConfigError(name, `expected 1 or 0, got "${raw}"`)
  return raw === '1'
}

/** The system's nginx: NGINX, else /usr/sbin/nginx when it exists, else `nginx` from PATH. */
export function nginxCommand (env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): string {
  if (env.NGINX !== undefined && env.NGINX !== '') return env.NGINX
  return exists('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx'
}

/**
 * Reads and checks the launcher's variables: PORT (9443), REDIRECT_PORT (9080), APP_PORT (3000),
 * WORKERS (2; 1 with SESSION_STORE=memory), SESSION_STORE (redis), REDIS_URL, SENTINEL (a master,
 * a replica and a sentinel of its own; not with REDIS_URL or REDIS_SENTINELS), STICKY, TLS_CERT,
 * TLS_KEY, NGINX. The apps read the rest (SESSION_SECRET, ALLOWED_HOSTS, LOG_LEVEL, NODE_ENV, and
 * REDIS_SENTINELS and REDIS_SENTINEL_NAME for sentinels of your own: with REDIS_SENTINELS, checked
 * here too, the launcher runs no Redis).
 */
export function readMultiHostConfig (env: NodeJS.ProcessEnv = process.env): MultiHostConfig {
  const sessionStore = (env.SESSION_STORE === undefined || env.SESSION_STORE === '' ? 'redis' : env.SESSION_STORE) as SessionStoreName
  if (!SESSION_STORES.includes(sessionStore)) {
    throw new ConfigError('SESSION_STORE', `expected one of ${SESSION_STORES.join(', ')}, got "${sessionStore}"`)
  }
  const memory = sessionStore === 'memory'
  const workersRaw = env.WORKERS ?? ''
  const workers = workersRaw === '' ? (memory ? 1 : 2) : Number(workersRaw)
  if (!Number.isInteger(workers) || workers < 1 || workers > availableParallelism() * 4) {
    throw new ConfigError('WORKERS', `expected a whole number from 1 to ${availableParallelism() * 4}, got "${workersRaw}"`)
  }
  if (memory && workers > 1) {
    throw new ConfigError('WORKERS', 'SESSION_STORE=memory keeps a session in one worker\'s memory: use WORKERS=1, or SESSION_STORE=cluster (the host\'s memory, shared by its workers)')
  }
  const cert = env.TLS_CERT ?? ''
  const key = env.TLS_KEY ?? ''
  if ((cert === '') !== (key === '')) throw new ConfigError(cert === '' ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY go together')
  const redisUrl = env.REDIS_URL ?? ''
  const redisSentinels = sentinelsSetting(env)
  const sentinel = flag(env, 'SENTINEL')
  const external = redisUrl !== '' ? 'REDIS_URL' : redisSentinels !== null ? 'REDIS_SENTINELS' : null
  if (sentinel && external !== null) {
    throw new ConfigError('SENTINEL', `SENTINEL=1 runs a Redis master, replica and sentinel of its own, not with ${external}; for sentinels of your own, set REDIS_SENTINELS (and REDIS_SENTINEL_NAME) without SENTINEL: the hosts read them from the environment`)
  }
  return {
    port: portSetting(env, 'PORT', 9443),
    redirectPort: portSetting(env, 'REDIRECT_PORT', 9080, true),
    appPort: portSetting(env, 'APP_PORT', 3000),
    workers,
    sessionStore,
    redisUrl: redisUrl === '' ? null : redisUrl,
    redisSentinels,
    sentinel,
    sticky: flag(env, 'STICKY'),
    tls: cert === '' ? null : { cert, key },
    nginx: nginxCommand(env)
  }
}
