import { isIP } from 'node:net'
import { availableParallelism, hostname } from 'node:os'

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

/** A setting the demo cannot run with. */
export class ConfigError extends Error {
  code = 'FLEET_APP_CONFIG'
  constructor (variable: string, reason: string) {
    super(`${variable}: ${reason}`)
    this.name = 'ConfigError'
  }
}

/** A port number variable (`allowZero`: 0 turns the thing off). */
export function portSetting (env: NodeJS.ProcessEnv, name: string, fallback: number, allowZero = false): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value > 65535 || (value === 0 && !allowZero)) {
    throw new ConfigError(name, `expected a port number${allowZero ? ' (0 turns it off)' : ''}, got "${raw}"`)
  }
  return value
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
export function sentinelsSetting (env: NodeJS.ProcessEnv): Array<{ host: string, port: number }> | null {
  const entries = list(env.REDIS_SENTINELS).map((entry) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d+)$/.exec(entry)
    const port = Number(match?.[3])
    if (match === null || port < 1 || port > 65535) {
      throw new ConfigError('REDIS_SENTINELS', `"${entry}" is not a sentinel's host:port such as 10.0.0.5:26379`)
    }
    return { host: match[1] ?? match[2] as string, port }
  })
  if (entries.length === 0) return null
  // two ways to name one Redis: refuse rather than pick one
  if ((env.REDIS_URL ?? '') !== '') throw new ConfigError('REDIS_SENTINELS', 'set REDIS_URL or REDIS_SENTINELS, not both')
  return entries
}

function sentinelName (env: NodeJS.ProcessEnv): string {
  const raw = env.REDIS_SENTINEL_NAME
  if (raw === undefined || raw === '') return 'mymaster'
  if (!/^\S+$/.test(raw)) throw new ConfigError('REDIS_SENTINEL_NAME', `expected a master name such as mymaster (no spaces), got "${raw}"`)
  return raw
}

function positive (env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(name, `expected a whole number of milliseconds ≥ 1, got "${raw}"`)
  return value
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

/** PROTOCOL, and the settings that go with plain HTTP: a trusted proxy, no TLS files, no redirect listener. */
function protocolOf (env: NodeJS.ProcessEnv, trustProxy: string[]): 'https' | 'http' {
  const protocol = env.PROTOCOL === undefined || env.PROTOCOL === '' ? 'https' : env.PROTOCOL
  if (protocol !== 'https' && protocol !== 'http') throw new ConfigError('PROTOCOL', `expected https or http, got "${protocol}"`)
  if (protocol === 'https') return protocol
  // without a proxy that says "this came over HTTPS", secure session cookies are never sent
  if (trustProxy.length === 0) throw new ConfigError('TRUST_PROXY', 'required with PROTOCOL=http: plain HTTP is only served behind a TLS-terminating proxy, named here')
  if ((env.TLS_CERT ?? '') !== '') throw new ConfigError('TLS_CERT', 'not used with PROTOCOL=http (the proxy terminates TLS)')
  if (env.REDIRECT_PORT !== undefined && env.REDIRECT_PORT !== '' && env.REDIRECT_PORT !== '0') {
    throw new ConfigError('REDIRECT_PORT', 'must be 0 or unset with PROTOCOL=http: the app redirects the plain-HTTP requests the proxy forwards')
  }
  return protocol
}

/** Reads and checks the demo's environment variables (see docs/examples.md for each). */
export function readConfig (env: NodeJS.ProcessEnv = process.env): FleetAppConfig {
  const production = env.NODE_ENV === 'production'
  const workersRaw = env.WORKERS
  const workers = workersRaw === undefined || workersRaw === '' ? availableParallelism() : Number(workersRaw)
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) {
    throw new ConfigError('WORKERS', `expected a whole number ≥ 1, got "${workersRaw}"`)
  }
  const sessionStore = (env.SESSION_STORE ?? 'cluster') as SessionStoreName
  if (!SESSION_STORES.includes(sessionStore)) {
    throw new ConfigError('SESSION_STORE', `expected one of ${SESSION_STORES.join(', ')}, got "${sessionStore}"`)
  }
  const sessionSecret = env.SESSION_SECRET === '' ? undefined : env.SESSION_SECRET
  if (sessionSecret === undefined && production) {
    throw new ConfigError('SESSION_SECRET', 'required when NODE_ENV=production')
  }
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigError('SESSION_SECRET', 'must be at least 32 characters long')
  }
  const cert = env.TLS_CERT ?? ''
  const key = env.TLS_KEY ?? ''
  if ((cert === '') !== (key === '')) throw new ConfigError(cert === '' ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY go together')
  const trustProxy = proxies(env.TRUST_PROXY)
  const protocol = protocolOf(env, trustProxy)
  const allowedHosts = list(env.ALLOWED_HOSTS).map((h) => h.toLowerCase())
  const redirectPort = protocol === 'http' ? 0 : portSetting(env, 'REDIRECT_PORT', 8080, true)
  if (production && (redirectPort !== 0 || protocol === 'http') && allowedHosts.length === 0) {
    throw new ConfigError('ALLOWED_HOSTS', protocol === 'http'
      ? 'required in production with PROTOCOL=http (the app redirects the proxy\'s plain-HTTP requests)'
      : 'required in production while the redirect listener is on (REDIRECT_PORT=0 turns it off)')
  }
  return {
    port: portSetting(env, 'PORT', 8443, false),
    host: env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST,
    protocol,
    trustProxy,
    hostName: env.HOST_NAME === undefined || env.HOST_NAME === '' ? hostname() : env.HOST_NAME,
    publicPort: portSetting(env, 'PUBLIC_PORT', 443, false),
    workers: env.FLEET_CLUSTER === '0' ? 1 : workers,
    production,
    tls: cert === '' ? null : { cert, key, ca: env.TLS_CA === '' ? undefined : env.TLS_CA },
    sessionStore,
    sessionSecret,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisSentinels: sentinelsSetting(env),
    redisSentinelName: sentinelName(env),
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    mysqlUrl: env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    memcachedUrl: env.MEMCACHED_URL ?? 'memcached://127.0.0.1:11211',
    corsOrigins: origins(env.CORS_ORIGINS),
    redirectPort,
    // development only: production requires the list (checked above)
    allowedHosts: allowedHosts.length > 0 ? allowedHosts : ['localhost', '127.0.0.1', '::1'],
    logLevel: env.LOG_LEVEL ?? 'info',
    readyTimeout: positive(env, 'READY_TIMEOUT', 10_000)
  }
}
