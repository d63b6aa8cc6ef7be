/**
 * The service resolver for integration tests.
 *
 * Each real server a suite talks to comes from an environment URL, with a
 * local default. Before a suite uses it, `requireService()` checks that the
 * server really answers, with one protocol round trip over `node:net` (no
 * client library), and applies the project's policy when it does not:
 *
 * - reachable: the suite gets `{ name, url, host, port }`;
 * - unreachable and `CI=true`: the test fails with the reason;
 * - unreachable otherwise: the test records a skipped test point named
 *   after the reason (`ok - redis unavailable at ... # SKIP`).
 *
 * In both unreachable cases it returns `null`, and the caller stops:
 *
 * ```ts
 * t.test('redis store', async t => {
 *   const redis = await requireService(t, 'redis')
 *   if (redis === null) return
 *   // ... use redis.url
 * })
 * ```
 */
import net from 'node:net'

/** The servers the suites know about. */
export type ServiceName = 'redis' | 'postgres' | 'mysql' | 'memcached'

/** Where a reachable service listens. */
export interface ServiceEndpoint {
  /** Which service this is. */
  name: ServiceName
  /** The URL as configured (env variable or default). */
  url: string
  /** Host name or IP address, without IPv6 brackets. */
  host: string
  /** TCP port (the protocol's default port when the URL has none). */
  port: number
}

/** What `probeService()` found. */
export type ProbeResult =
  | (ServiceEndpoint & {
    ok: true
    /** What the server said, e.g. `PONG`, `VERSION 1.6.18`, `10.11.6-MariaDB`. */
    detail: string
  })
  | { ok: false, name: ServiceName, url: string, reason: string }

/** The part of a tap `Test` the policy needs (a tap `Test` fits). */
export interface PolicyTest {
  /** Records a test point; called with `{ skip: true }`, a skipped one (`ok - <reason> # SKIP`). */
  pass: (message: string, extra: { skip: true }) => unknown
  /** Records a failing assertion. */
  fail: (message: string) => unknown
}

/** Options shared by the helpers. */
export interface ServiceOptions {
  /**
   * Environment to read the URL and `CI` from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
  /**
   * Milliseconds allowed for connecting and answering.
   * @default 2000
   */
  timeout?: number
}

/** The probe's verdict on the bytes received so far. */
type Verdict = { done: false } | { done: true, ok: true, detail: string } | { done: true, ok: false, reason: string }

interface ServiceSpec {
  envVar: string
  defaultUrl: string
  defaultPort: number
  schemes: string[]
  /** Bytes to send once connected; `null` when the server speaks first. */
  request: Buffer | null
  check: (data: Buffer) => Verdict
}

const MORE: Verdict = { done: false }

/** Default probe timeout in milliseconds. */
export const DEFAULT_TIMEOUT = 2000

/** PostgreSQL SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

function lineOf (data: Buffer): string | null {
  const end = data.indexOf('\r\n')
  return end === -1 ? null : data.subarray(0, end).toString('latin1')
}

function checkRedis (data: Buffer): Verdict {
  const line = lineOf(data)
  if (line === null) return MORE
  // A server with a password still proves it speaks Redis.
  if (line === '+PONG' || line.startsWith('-NOAUTH')) return { done: true, ok: true, detail: line.slice(1) }
  return { done: true, ok: false, reason: `unexpected reply to PING: ${JSON.stringify(line)}` }
}

function checkMemcached (data: Buffer): Verdict {
  const line = lineOf(data)
  if (line === null) return MORE
  if (line.startsWith('VERSION ')) return { done: true, ok: true, detail: line }
  return { done: true, ok: false, reason: `unexpected reply to "version": ${JSON.stringify(line)}` }
}

function checkPostgres (data: Buffer): Verdict {
  const answer = String.fromCharCode(data[0] as number)
  if (answer === 'S' || answer === 'N') {
    return { done: true, ok: true, detail: answer === 'S' ? 'SSL supported' : 'SSL not supported' }
  }
  return { done: true, ok: false, reason: `unexpected reply to SSLRequest: ${JSON.stringify(answer)}` }
}

/** MySQL/MariaDB greet first: 3-byte length, sequence id, then the payload. */
function checkMysql (data: Buffer): Verdict {
  if (data.length < 4) return MORE
  const length = data.readUIntLE(0, 3)
  if (data.length < 4 + length) return MORE
  const payload = data.subarray(4, 4 + length)
  if (payload[0] === 10) {
    const end = payload.indexOf(0, 1)
    return { done: true, ok: true, detail: payload.subarray(1, end).toString('latin1') }
  }
  if (payload[0] === 0xff) {
    // ERR packet: 0xff, 2-byte error code, message (no SQL state before the handshake).
    return { done: true, ok: false, reason: `server refused the connection: ${payload.subarray(3).toString('utf8')}` }
  }
  return { done: true, ok: false, reason: `unexpected handshake protocol version ${payload[0]}` }
}

const SPECS: Record<ServiceName, ServiceSpec> = {
  redis: {
    envVar: 'REDIS_URL',
    defaultUrl: 'redis://127.0.0.1:6379',
    defaultPort: 6379,
    schemes: ['redis:'],
    request: Buffer.from('*1\r\n$4\r\nPING\r\n'),
    check: checkRedis
  },
  postgres: {
    envVar: 'DATABASE_URL',
    defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
    defaultPort: 5432,
    schemes: ['postgres:', 'postgresql:'],
    request: SSL_REQUEST,
    check: checkPostgres
  },
  mysql: {
    envVar: 'MYSQL_URL',
    defaultUrl: 'mysql://root@127.0.0.1:3306/test',
    defaultPort: 3306,
    schemes: ['mysql:', 'mariadb:'],
    request: null,
    check: checkMysql
  },
  memcached: {
    envVar: 'MEMCACHED_URL',
    defaultUrl: 'memcached://127.0.0.1:11211',
    defaultPort: 11211,
    schemes: ['memcached:', 'memcache:'],
    request: Buffer.from('version\r\n'),
    check: checkMemcached
  }
}

/** The environment variable that configures a service, e.g. `REDIS_URL`. */
export function serviceEnvVar (name: ServiceName): string {
  return SPECS[name].envVar
}

/**
 * The URL of a service: its environment variable when set and not empty,
 * else the local default.
 */
export function resolveServiceUrl (name: ServiceName, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[SPECS[name].envVar]
  return value === undefined || value === '' ? SPECS[name].defaultUrl : value
}

/** Host and port of a service URL; throws a readable error on a bad URL. */
export function parseServiceUrl (name: ServiceName, url: string): { host: string, port: number } {
  const spec = SPECS[name]
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`${spec.envVar} is not a valid URL: ${JSON.stringify(url)}`)
  }
  if (!spec.schemes.includes(parsed.protocol)) {
    throw new Error(`${spec.envVar} must start with ${spec.schemes.join(' or ')}//, got ${JSON.stringify(url)}`)
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  return { host, port: parsed.port === '' ? spec.defaultPort : Number(parsed.port) }
}

/** One request/answer exchange with a server, settled once. */
function roundTrip (host: string, port: number, spec: ServiceSpec, timeout: number): Promise<Verdict & { done: true }> {
  return new Promise(resolve => {
    let received = Buffer.alloc(0)
    const socket = net.connect({ host, port })
    const finish = (verdict: Verdict & { done: true }): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(verdict)
    }
    const timer = setTimeout(() => finish({ done: true, ok: false, reason: `no answer within ${timeout} ms` }), timeout)
    socket.on('connect', () => { if (spec.request !== null) socket.write(spec.request) })
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      const verdict = spec.check(received)
      if (verdict.done) finish(verdict)
    })
    socket.on('error', err => finish({ done: true, ok: false, reason: err.message }))
    socket.on('close', () => finish({ done: true, ok: false, reason: 'connection closed before a complete answer' }))
  })
}

/**
 * Checks that a server speaks its protocol at `url`, with one round trip:
 * Redis `PING` → `+PONG`; Memcached `version` → `VERSION ...`; PostgreSQL an
 * SSLRequest → `N` or `S`; MySQL/MariaDB the server's handshake (protocol 10).
 * Never throws: a bad URL, a refused connection, a timeout or a wrong answer
 * come back as `{ ok: false, reason }`.
 */
export async function probeService (name: ServiceName, url: string, options: ServiceOptions = {}): Promise<ProbeResult> {
  const spec = SPECS[name]
  let address: { host: string, port: number }
  try {
    address = parseServiceUrl(name, url)
  } catch (err) {
    return { ok: false, name, url, reason: (err as Error).message }
  }
  const verdict = await roundTrip(address.host, address.port, spec, options.timeout ?? DEFAULT_TIMEOUT)
  if (!verdict.ok) return { ok: false, name, url, reason: verdict.reason }
  return { ok: true, name, url, ...address, detail: verdict.detail }
}

/**
 * Applies the policy for something a test needs but cannot have: with
 * `CI=true` the test fails (`t.fail(reason)`), otherwise it records a skipped
 * test point named after the reason (`t.pass(reason, { skip: true })`, shown
 * as `ok - <reason> # SKIP`). It works at any point of a test, planned or
 * not, and on the root `tap` object. Returns `null`, so callers can write
 * `return unavailable(t, reason)`.
 */
export function unavailable (t: PolicyTest, reason: string, env: NodeJS.ProcessEnv = process.env): null {
  if (env.CI === 'true') {
    t.fail(`${reason} (CI=true: a required service must be available)`)
  } else {
    t.pass(`${reason} (skipped; with CI=true this fails)`, { skip: true })
  }
  return null
}

/**
 * Resolves a service from its environment URL (or the local default) and
 * checks it answers. Reachable: returns `{ name, url, host, port }`.
 * Unreachable: fails the test when `CI=true`, else records a skip with the
 * reason; in both cases returns `null`, and the caller must stop (`return`).
 */
export async function requireService (t: PolicyTest, name: ServiceName, options: ServiceOptions = {}): Promise<ServiceEndpoint | null> {
  const env = options.env ?? process.env
  const url = resolveServiceUrl(name, env)
  const probe = await probeService(name, url, options)
  if (!probe.ok) {
    return unavailable(t, `${name} unavailable at ${url} (${SPECS[name].envVar}): ${probe.reason}`, env)
  }
  return { name, url, host: probe.host, port: probe.port }
}
