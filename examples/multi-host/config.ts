import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { ConfigError, sentinels, SESSION_STORES, type SessionStoreName } from '../fleet-app/config.js'
import { readEnv, type Variable } from '../fleet-app/env.js'

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

/** The system's nginx: NGINX, else /usr/sbin/nginx when it exists, else `nginx` from PATH. */
export function nginxCommand (env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): string {
  if (env.NGINX !== undefined && env.NGINX !== '') return env.NGINX
  return exists('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx'
}

/**
 * The launcher's variables (examples/multi-host/README.md says what each is for; WORKERS defaults to
 * 2, or 1 with SESSION_STORE=memory). The apps read the rest (SESSION_SECRET, ALLOWED_HOSTS,
 * LOG_LEVEL, NODE_ENV, and REDIS_SENTINEL_NAME for sentinels of your own: with REDIS_SENTINELS,
 * checked here too, the launcher runs no Redis).
 */
export const VARIABLES = {
  PORT: { type: 'string', format: 'port', default: '9443' },
  REDIRECT_PORT: { type: 'string', format: 'port-or-off', default: '9080' },
  APP_PORT: { type: 'string', format: 'port', default: '3000' },
  WORKERS: { type: 'string', format: 'count' },
  SESSION_STORE: { type: 'string', enum: SESSION_STORES, default: 'redis' },
  REDIS_URL: { type: 'string' },
  REDIS_SENTINELS: { type: 'string' },
  SENTINEL: { type: 'string', enum: ['0', '1'], default: '0' },
  STICKY: { type: 'string', enum: ['0', '1'], default: '0' },
  TLS_CERT: { type: 'string' },
  TLS_KEY: { type: 'string' }
} as const satisfies Record<string, Variable>

/** Reads and checks the launcher's variables (above), and NGINX. */
export function readMultiHostConfig (env: NodeJS.ProcessEnv = process.env): MultiHostConfig {
  const vars = readEnv(VARIABLES, env)
  const memory = vars.SESSION_STORE === 'memory'
  const workers = vars.WORKERS === undefined ? (memory ? 1 : 2) : Number(vars.WORKERS)
  if (workers > availableParallelism() * 4) {
    throw new ConfigError('WORKERS', `expected a whole number from 1 to ${availableParallelism() * 4}, got "${workers}"`)
  }
  if (memory && workers > 1) {
    throw new ConfigError('WORKERS', 'SESSION_STORE=memory keeps a session in one worker\'s memory: use WORKERS=1, or SESSION_STORE=cluster (the host\'s memory, shared by its workers)')
  }
  if ((vars.TLS_CERT === undefined) !== (vars.TLS_KEY === undefined)) {
    throw new ConfigError(vars.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY go together')
  }
  const redisSentinels = sentinels(vars.REDIS_SENTINELS, vars.REDIS_URL)
  const sentinel = vars.SENTINEL === '1'
  const external = vars.REDIS_URL !== undefined ? 'REDIS_URL' : redisSentinels !== null ? 'REDIS_SENTINELS' : null
  if (sentinel && external !== null) {
    throw new ConfigError('SENTINEL', `SENTINEL=1 runs a Redis master, replica and sentinel of its own, not with ${external}; for sentinels of your own, set REDIS_SENTINELS (and REDIS_SENTINEL_NAME) without SENTINEL: the hosts read them from the environment`)
  }
  return {
    port: Number(vars.PORT),
    redirectPort: Number(vars.REDIRECT_PORT),
    appPort: Number(vars.APP_PORT),
    workers,
    sessionStore: vars.SESSION_STORE,
    redisUrl: vars.REDIS_URL ?? null,
    redisSentinels,
    sentinel,
    sticky: vars.STICKY === '1',
    tls: vars.TLS_CERT === undefined ? null : { cert: vars.TLS_CERT, key: vars.TLS_KEY as string },
    nginx: nginxCommand(env)
  }
}
