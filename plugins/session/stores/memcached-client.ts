// The memjs client of MemcachedStore: the part of it the store uses, the settings of the one it
// makes for `servers`, and the serializer that flags JSON as connect-memcached's client does.
import { check } from '../options.js'
import { FST_FLEET_SESSION_DRIVER_MISSING } from './sql-errors.js'

const CLIENT_OPTION_KEYS = ['retries', 'retry_delay', 'failover', 'failoverTime', 'timeout', 'conntimeout', 'keepAlive', 'keepAliveDelay', 'logger']
const CLIENT_METHODS = ['get', 'set', 'touch', 'delete', 'flush', 'quit'] as const

/** The part of a memjs `Client` (`memjs.Client.create()`, memjs 1.3) the store uses: its promise API. */
export interface MemjsClientLike {
  get: (key: string) => Promise<{ value: Buffer | null }>
  set: (key: string, value: string, options: { expires: number }) => Promise<unknown>
  touch: (key: string, expires: number) => Promise<boolean | null>
  delete: (key: string) => Promise<unknown>
  flush: () => Promise<unknown>
  quit: () => void
}

/** memjs settings of the client the store makes (`servers`), passed on as they are to `memjs.Client.create()`. */
export interface MemjsClientOptions {
  /**
   * Tries per command (memjs counts the first one); more than 1 delays every failure by `retry_delay`.
   * @default 1 (a server that is down fails the call at once)
   */
  retries?: number
  /** Seconds between tries. @default 0.2 */
  retry_delay?: number
  /** A server that failed is left out for `failoverTime` seconds: its keys go to the next server. @default false */
  failover?: boolean
  /** @default 60 */
  failoverTime?: number
  /**
   * Seconds memjs waits for an answer before it drops the connection, failing every command on it:
   * a backstop behind the store's `timeout`, which fails each call first.
   * @default 5 times the store's `timeout`
   */
  timeout?: number
  /** Seconds memjs waits for a connection. @default 5 times the store's `timeout` */
  conntimeout?: number
  /** TCP keep-alive on the connections. @default false */
  keepAlive?: boolean
  /** @default 30 */
  keepAliveDelay?: number
  /** Where memjs logs its failures (`log()`). @default none (each caller gets its error, coded) */
  logger?: { log: (...args: unknown[]) => void }
}

/** The flag the `memcached` package (connect-memcached's client) gives JSON, and parses back into an object. */
const JSON_FLAG = 2

/**
 * A memjs serializer that stores values with flag 2 (what the `memcached` package, connect-memcached's
 * client, gives JSON), so express-session gets the sessions as objects. The store uses it on the
 * client it makes; give it to yours: `memjs.Client.create(servers, { serializer: jsonFlagSerializer })`.
 */
export const jsonFlagSerializer = {
  serialize: (opcode: number, value: string | Buffer, extras: Buffer): { value: string | Buffer, extras: Buffer } => {
    // only the extras of a store command (set, add, replace: flags, then expiry) carry flags
    if (extras.length !== 8) return { value, extras }
    const flagged = Buffer.from(extras)
    flagged.writeUInt32BE(JSON_FLAG, 0)
    return { value, extras: flagged }
  },
  deserialize: (opcode: number, value: Buffer | null, extras: Buffer): { value: Buffer | null, extras: Buffer } => ({ value, extras })
}

const SILENT = { log: (): void => {} }

/** Where the backend gets its client: the one given, or one it makes on first use (and quits on close). */
export type ClientSource = { client: MemjsClientLike } | { make: () => Promise<MemjsClientLike> }

const isMemjsClient = (value: unknown): value is MemjsClientLike =>
  value !== null && typeof value === 'object' && CLIENT_METHODS.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')

/** The client of the options: `client`, or one made for `servers` on first use. */
export function clientSource (own: Record<string, unknown>, timeout: number, jsonFlags: boolean): ClientSource {
  if (own.client !== undefined && own.servers !== undefined) check.invalid('client', 'give client or servers, not both')
  if (own.client !== undefined) {
    for (const name of ['username', 'password', 'clientOptions']) {
      if (own[name] !== undefined) check.invalid(name, 'only with servers (a client of yours has its own settings)')
    }
    return isMemjsClient(own.client) ? { client: own.client } : check.invalid('client', `expected a memjs client (with ${CLIENT_METHODS.join('(), ')}())`)
  }
  if (own.servers === undefined) check.invalid('client', "give client (a memjs client) or servers ('host:port,host:port')")
  const servers = check.string('servers', own.servers, '')
  if (servers.split(',').some((server) => server.trim() === '')) check.invalid('servers', `expected host:port entries separated by commas, got ${JSON.stringify(servers)}`)
  const credentials: Record<string, string> = {}
  for (const name of ['username', 'password']) {
    if (own[name] !== undefined) credentials[name] = check.string(name, own[name], '')
  }
  const clientOptions = check.object('clientOptions', own.clientOptions ?? {})
  check.known(clientOptions, CLIENT_OPTION_KEYS, 'clientOptions.')
  const backstop = 5 * timeout / 1000
  const settings = {
    retries: 1,
    timeout: backstop,
    conntimeout: backstop,
    logger: SILENT,
    ...(jsonFlags ? { serializer: jsonFlagSerializer } : {}),
    ...clientOptions,
    ...credentials
  }
  return {
    make: async () => {
      const memjs = await import('memjs').catch((err: unknown) => {
        /* c8 ignore next - only without the optional peer memjs installed */
        throw new FST_FLEET_SESSION_DRIVER_MISSING('MemcachedStore({ servers })', 'memjs', 'memjs', { cause: err })
      })
      // (a copy: memjs writes its defaults into the object it gets)
      return memjs.Client.create(servers, { ...settings }) as unknown as MemjsClientLike
    }
  }
}
