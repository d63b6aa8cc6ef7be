import { isIP } from 'node:net'
import { availableParallelism, hostname } from 'node:os'
import { ConfigError, readEnv, type Variable } from './env.js'

export { ConfigError }

/** Session stores the demo knows by name (`SESSION_STORE`). */
export const SESSION_STORES = ['cluster', 'memory', 'redis', 'postgres', 'mysql', 'memcached', 'tiered'] as const
export type SessionStoreName = typeof SESSION_STORES[number]

/** The demo's settings, read from the environment. */
export interface FleetAppConfig {
  port: number
  host: string
  /** `http`: plain HTTP/1.1 behind a TLS-terminating proxy (which `trustProxy` must name). */
  protocol: 'https' | 'http'
  /** Addresses and CIDR ranges of the proxies whose X-Forwarded-* headers are believed; empty: none. */
  trustProxy: string[]
  /** Which host this is, in `/health` (several hosts behind one load balancer). */
  hostName: string
  /** The HTTPS port clients use (the proxy's), in the redirects of `protocol: 'http'`. */
  publicPort: number
  workers: number
  production: boolean
  tls: { cert: string, key: string, ca: string | undefined } | null
  sessionStore: SessionStoreName
  /** `undefined` in development: the primary makes one secret for all workers of this run. */
  sessionSecret: string | undefined
  redisUrl: string
  /** REDIS_SENTINELS: the Redis stores ask these sentinels for the master instead of using REDIS_URL; `null`: REDIS_URL. */
  redisSentinels: Array<{ host: string, port: number }> | null
  /** The master's name at the sentinels (REDIS_SENTINEL_NAME). */
  redisSentinelName: string
  databaseUrl: string
  mysqlUrl: string
  memcachedUrl: string
  corsOrigins: string[]
  /** 0: no redirect listener. */
  redirectPort: number
  allowedHosts: string[]
  logLevel: string
  /** Milliseconds a new worker has to start and listen (startCluster's `readyTimeout`). */
  readyTimeout: number
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)

function origins (raw: string | undefined): string[] {
  return list(raw).map((origin) => {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin such as https://app.example.com`)
    }
    if (url.origin !== origin.replace(/\/$/, '') || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin such as https://app.example.com`)
    }
    return url.origin
  })
}

/** REDIS_SENTINELS: `host:port` (`[v6]:port`) entries, comma-separated; `null` when unset or empty. */
export function sentinels (raw: string | undefined, redisUrl: string | undefined): Array<{ host: string, port: number }> | null {
  const entries = list(raw).map((entry) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d+)$/.exec(entry)
    const port = Number(match?.[3])
    if (match === null || port < 1 || port > 65535) {
      throw new ConfigError('REDIS_SENTINELS', `"${entry}" is not a sentinel's host:port such as 10.0.0.5:26379`)
    }
    return { host: match[1] ?? match[2] as string, port }
  })
  if (entries.length === 0) return null
  // two ways to name one Redis: refuse rather than pick one
  if (redisUrl !== undefined) throw new ConfigError('REDIS_SENTINELS', 'set REDIS_URL or REDIS_SENTINELS, not both')
  return entries
}

const CIDR_PREFIX = { 4: 32, 6: 128 } as const

/** TRUST_PROXY: IP addresses and CIDR ranges only (never "everyone", which would let any client forge X-Forwarded-Proto). */
function proxies (raw: string | undefined): string[] {
  return list(raw).map((entry) => {
    const [address = '', prefix, extra] = entry.split('/')
    const family = isIP(address)
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && family !== 0 && Number(prefix) <= CIDR_PREFIX[family as 4 | 6])
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address or CIDR range such as 10.0.0.0/8`)
    }
    return entry
  })
}

/**
 * The demo's variables (docs/examples.md says what each is for). REDIS_URL and REDIRECT_PORT have their
 * defaults in readConfig: whether they were set at all decides REDIS_SENTINELS and PROTOCOL=http.
 */
export const VARIABLES = {
  NODE_ENV: { type: 'string' },
  PORT: { type: 'string', format: 'port', default: '8443' },
  HOST: { type: 'string', default: '127.0.0.1' },
  PROTOCOL: { type: 'string', enum: ['https', 'http'], default: 'https' },
  TRUST_PROXY: { type: 'string' },
  HOST_NAME: { type: 'string', default: hostname() },
  PUBLIC_PORT: { type: 'string', format: 'port', default: '443' },
  WORKERS: { type: 'string', format: 'count', default: String(availableParallelism()) },
  FLEET_CLUSTER: { type: 'string', enum: ['0', '1'], default: '1' },
  SESSION_STORE: { type: 'string', enum: SESSION_STORES, default: 'cluster' },
  SESSION_SECRET: { type: 'string', minLength: 32 },
  TLS_CERT: { type: 'string' },
  TLS_KEY: { type: 'string' },
  TLS_CA: { type: 'string' },
  REDIS_URL: { type: 'string' },
  REDIS_SENTINELS: { type: 'string' },
  REDIS_SENTINEL_NAME: { type: 'string', format: 'master-name', default: 'mymaster' },
  DATABASE_URL: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  MYSQL_URL: { type: 'string', default: 'mysql://root@127.0.0.1:3306/test' },
  MEMCACHED_URL: { type: 'string', default: 'memcached://127.0.0.1:11211' },
  CORS_ORIGINS: { type: 'string' },
  REDIRECT_PORT: { type: 'string', format: 'port-or-off' },
  ALLOWED_HOSTS: { type: 'string' },
  LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  READY_TIMEOUT: { type: 'string', format: 'milliseconds', default: '10000' }
} as const satisfies Record<string, Variable>

/** Reads and checks the demo's environment variables (see docs/examples.md for each). */
export function readConfig (env: NodeJS.ProcessEnv = process.env): FleetAppConfig {
  const vars = readEnv(VARIABLES, env)
  const production = vars.NODE_ENV === 'production'
  if (vars.SESSION_SECRET === undefined && production) throw new ConfigError('SESSION_SECRET', 'required when NODE_ENV=production')
  if ((vars.TLS_CERT === undefined) !== (vars.TLS_KEY === undefined)) {
    throw new ConfigError(vars.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY go together')
  }
  const trustProxy = proxies(vars.TRUST_PROXY)
  if (vars.PROTOCOL === 'http') {
    // without a proxy that says "this came over HTTPS", secure session cookies are never sent
    if (trustProxy.length === 0) throw new ConfigError('TRUST_PROXY', 'required with PROTOCOL=http: plain HTTP is only served behind a TLS-terminating proxy, named here')
    if (vars.TLS_CERT !== undefined) throw new ConfigError('TLS_CERT', 'not used with PROTOCOL=http (the proxy terminates TLS)')
    if (vars.REDIRECT_PORT !== undefined && vars.REDIRECT_PORT !== '0') {
      throw new ConfigError('REDIRECT_PORT', 'must be 0 or unset with PROTOCOL=http: the app redirects the plain-HTTP requests the proxy forwards')
    }
  }
  const allowedHosts = list(vars.ALLOWED_HOSTS).map((h) => h.toLowerCase())
  const redirectPort = vars.PROTOCOL === 'http' ? 0 : Number(vars.REDIRECT_PORT ?? 8080)
  if (production && (redirectPort !== 0 || vars.PROTOCOL === 'http') && allowedHosts.length === 0) {
    throw new ConfigError('ALLOWED_HOSTS', vars.PROTOCOL === 'http'
      ? 'required in production with PROTOCOL=http (the app redirects the proxy\'s plain-HTTP requests)'
      : 'required in production while the redirect listener is on (REDIRECT_PORT=0 turns it off)')
  }
  return {
    port: Number(vars.PORT),
    host: vars.HOST,
    protocol: vars.PROTOCOL,
    trustProxy,
    hostName: vars.HOST_NAME,
    publicPort: Number(vars.PUBLIC_PORT),
    workers: vars.FLEET_CLUSTER === '0' ? 1 : Number(vars.WORKERS),
    production,
    tls: vars.TLS_CERT === undefined ? null : { cert: vars.TLS_CERT, key: vars.TLS_KEY as string, ca: vars.TLS_CA },
    sessionStore: vars.SESSION_STORE,
    sessionSecret: vars.SESSION_SECRET,
    redisUrl: vars.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisSentinels: sentinels(vars.REDIS_SENTINELS, vars.REDIS_URL),
    redisSentinelName: vars.REDIS_SENTINEL_NAME,
    databaseUrl: vars.DATABASE_URL,
    mysqlUrl: vars.MYSQL_URL,
    memcachedUrl: vars.MEMCACHED_URL,
    corsOrigins: origins(vars.CORS_ORIGINS),
    redirectPort,
    // development only: production requires the list (checked above)
    allowedHosts: allowedHosts.length > 0 ? allowedHosts : ['localhost', '127.0.0.1', '::1'],
    logLevel: vars.LOG_LEVEL,
    readyTimeout: Number(vars.READY_TIMEOUT)
  }
}
