import { createHash } from 'node:crypto'
import { report } from '../log.js'
import type { SessionBackend, StoredSession } from '../backend.js'
import { check, splitOptions, type StoreOptions } from '../options.js'
import { BackendStore } from '../store.js'
import type { InvalidationChannel } from '../invalidation.js'
import { FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE } from './redis-errors.js'
import { redisDriver, type RedisClientLike, type RedisDriver } from './redis-client.js'
import { redisInvalidation } from './redis-invalidation.js'

export type { IoRedisLike, NodeRedisClusterLike, NodeRedisLike, NodeRedisSentinelLike, RedisClientLike } from './redis-client.js'

/** `RedisStore`'s `waitReplicas`: how many replicas must hold each write, and how long to wait for them. */
export interface RedisWaitReplicas {
  /** Replicas that must acknowledge the write (`WAIT`'s `numreplicas`), 1 or more. */
  count: number
  /** Milliseconds `WAIT` waits for them, 1 or more and less than the store's `timeout`. */
  timeout: number
}

/** Options of `RedisStore`. */
export interface RedisStoreOptions extends StoreOptions {
  /**
   * A connected client of Redis 7.0 or later: an ioredis `Redis` or `Cluster`, or a node-redis v5/v6
   * client or cluster (`await createClient().connect()`, `await createCluster(...).connect()`), told
   * apart by shape. The store never creates a client
   * and never listens on it: listen for `'error'` on your client yourself, as an unhandled `'error'`
   * event ends the process. With ioredis, keep `maxRetriesPerRequest` a number (its default, 20) or
   * set `enableOfflineQueue: false`, so that calls made while Redis is down do not queue without bound.
   * @default undefined (required)
   */
  client: RedisClientLike
  /**
   * Prepended to the session id to make the key, as connect-redis does (`sess:<sid>`).
   * @default 'sess:'
   */
  prefix?: string
  /**
   * The `COUNT` hint of each `SCAN` that `length()`, `ids()` and `clear()` run (keys Redis looks at
   * per call).
   * @default 100
   */
  scanCount?: number
  /**
   * `close()` also closes the client (`QUIT`, or a disconnect when Redis is unreachable).
   * @default false (the client is yours: it stays open)
   */
  closeClient?: boolean
  /**
   * Durability across a failover. Redis replicates asynchronously, so a failover (Sentinel's or
   * Cluster's, a `SENTINEL FAILOVER` too) promotes a replica that may lack the last writes the
   * master acknowledged: a session just written reads as absent (the user is logged out) and one
   * just destroyed comes back. With `{ count, timeout }`, each write (`set`, `touch`, `destroy`,
   * `clear`) is followed by `WAIT count timeout` on the same connection, in the same round trip,
   * and fails with `FST_FLEET_SESSION_BACKEND` (503) when fewer than `count` replicas acknowledged
   * it within `timeout` ms (the write itself may have been applied). Costs the replicas' round trip
   * on every write. Not with a cluster client (refused with `FST_FLEET_SESSION_INVALID_OPTION`):
   * it routes each command on its own, so `WAIT` cannot be pinned to the connection of the write.
   * @default false (a write is acknowledged by the master alone)
   */
  waitReplicas?: RedisWaitReplicas | false
}

export const REDIS_DEFAULTS = {
  prefix: 'sess:',
  scanCount: 100,
  closeClient: false,
  waitReplicas: false
} as const satisfies Required<Omit<RedisStoreOptions, 'client' | keyof StoreOptions>>

const REDIS_KEYS = ['client', 'prefix', 'scanCount', 'closeClient', 'waitReplicas'] as const

/** `waitReplicas` checked: `null` when off. */
function waitReplicasOption (value: unknown, driver: RedisDriver): RedisWaitReplicas | null {
  if (value === undefined || value === false) return null
  const options = check.object('waitReplicas', value)
  check.known(options, ['count', 'timeout'], 'waitReplicas.')
  const required = undefined as unknown as number // (no default: a missing one is refused)
  const count = check.number('waitReplicas.count', options.count, required, { min: 1, integer: true })
  const timeout = check.number('waitReplicas.timeout', options.timeout, required, { min: 1, integer: true })
  if (driver.pipeline === null) {
    check.invalid('waitReplicas', 'not with a cluster client: it routes each command on its own, so WAIT cannot follow a write on its connection')
  }
  return { count, timeout }
}

/** `text` with the glob characters of `SCAN MATCH` escaped. */
export const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&')

/**
 * Reads a session and its absolute expiry (ms; -1 without one) in one command: a MULTI of GET and
 * PEXPIRETIME costs the client several times more than one command (measured with ioredis).
 *
 * Reads must not run on a replica: during a failover the old master turns replica and, while it
 * resyncs, holds nothing, so a read there would log the user out. A replica refuses this script
 * (with a shebang and without the `no-writes` flag, Redis 7 treats it as a write) and `GETEX`
 * (a write command) with `READONLY`: the call fails with a coded error until the client follows
 * the new master, and no session is lost.
 */
const READ_SCRIPT = "#!lua\nlocal v = redis.call('GET', KEYS[1]) if not v then return false end return {v, redis.call('PEXPIRETIME', KEYS[1])}"
const READ_SHA = createHash('sha1').update(READ_SCRIPT).digest('hex')

/** The backend of `RedisStore`: one key per session, driven through the client's raw command API. */
class RedisBackend implements SessionBackend {
  readonly #driver: RedisDriver
  readonly #prefix: string
  readonly #match: string
  readonly #scanCount: string
  readonly #closeClient: boolean
  /** `WAIT`'s arguments after each write; `null`: no wait. */
  readonly #wait: string[] | null

  constructor (driver: RedisDriver, prefix: string, scanCount: number, closeClient: boolean, wait: RedisWaitReplicas | null) {
    this.#driver = driver
    this.#wait = wait === null ? null : ['WAIT', String(wait.count), String(wait.timeout)]
    this.#prefix = prefix
    this.#match = `${globEscape(prefix)}*`
    this.#scanCount = String(scanCount)
    this.#closeClient = closeClient
  }

  // (the calls a request makes chain their promises instead of awaiting them: each async layer
  // costs a promise and a turn of the microtask queue per call)
  read (sid: string): Promise<StoredSession | null> {
    return this.#readScript(this.#key(sid)).then((reply) => {
      if (reply === null) return null
      const [text, expireTime] = reply as [string, number | string]
      return { text, expiresAt: Number(expireTime) === -1 ? null : Number(expireTime) }
    })
  }

  /** One `GETEX`: costs Redis and the client less than the script (and a replica refuses it too). */
  readText (sid: string): Promise<string | null> {
    return this.#send(['GETEX', this.#key(sid)]) as Promise<string | null>
  }

  async write (sid: string, text: string, expiresAt: number): Promise<void> {
    await this.#sendWrite(['SET', this.#key(sid), text, 'PXAT', String(Math.ceil(expiresAt))])
  }

  refresh (sid: string, expiresAt: number): Promise<boolean> {
    return this.#sendWrite(['PEXPIREAT', this.#key(sid), String(Math.ceil(expiresAt))]).then((done) => Number(done) === 1)
  }

  async remove (sid: string): Promise<void> {
    await this.#sendWrite(['DEL', this.#key(sid)])
  }

  async count (): Promise<number> {
    let total = 0
    await this.#scan((keys) => { total += keys.length })
    return total
  }

  async ids (): Promise<string[]> {
    const ids: string[] = []
    const skip = this.#prefix.length
    await this.#scan((keys) => { for (const key of keys) ids.push(key.slice(skip)) })
    return ids
  }

  async clear (): Promise<void> {
    // one DEL per key: a multi-key DEL fails on a cluster when the keys live in different slots
    await this.#scan(async (keys) => { await Promise.all(keys.map((key) => this.#sendWrite(['DEL', key]))) })
  }

  async close (): Promise<void> {
    if (this.#closeClient) await this.#driver.close()
  }

  #key (sid: string): string {
    return this.#prefix + sid
  }

  /** Calls `each` with every batch of keys of this store, one `SCAN` after the other, on every master. */
  async #scan (each: (keys: string[]) => unknown): Promise<void> {
    this.#online()
    for (const send of await this.#driver.masters()) {
      let cursor = '0'
      do {
        const [next, keys] = await send(['SCAN', cursor, 'MATCH', this.#match, 'COUNT', this.#scanCount]) as [string, string[]]
        await each(keys)
        cursor = String(next)
      } while (cursor !== '0')
    }
  }

  #online (): void {
    const offline = this.#driver.offline()
    if (offline !== null) throw new Error(`Redis is unreachable: ${offline}`)
  }

  /** Sends a command on the key `args[1]`; throws at once when the client is offline. */
  #send (args: string[]): Promise<unknown> {
    this.#online()
    return this.#driver.send(args[1] as string, args)
  }

  /**
   * Sends a write; with `waitReplicas`, as the pipeline `CLIENT ID`, the write, `WAIT`, `CLIENT ID`
   * on one connection (`WAIT` counts the writes of its own connection; the two ids prove that no
   * reconnection, after which a client may resend the rest alone, came in between), and fails
   * unless enough replicas acknowledged it.
   */
  #sendWrite (args: string[]): Promise<unknown> {
    const wait = this.#wait
    if (wait === null) return this.#send(args)
    this.#online()
    const pipeline = this.#driver.pipeline as (commands: string[][]) => Promise<unknown[]>
    return pipeline([['CLIENT', 'ID'], args, wait, ['CLIENT', 'ID']]).then(([before, reply, acked, after]) => {
      if (String(before) !== String(after)) throw new Error('the connection changed between the write and its WAIT: replication unknown')
      if (Number(acked) < Number(wait[1])) {
        throw new Error(`${String(acked)} of ${wait[1] as string} replicas acknowledged the write within ${wait[2] as string} ms (waitReplicas)`)
      }
      return reply
    })
  }

  /**
   * The session and its expiry in one command and one round trip: `EVALSHA` of the read script,
   * or `EVAL` (which caches it) when the server does not know it yet (after a restart or a failover).
   */
  async #readScript (key: string): Promise<unknown> {
    this.#online()
    try {
      return await this.#driver.send(key, ['EVALSHA', READ_SHA, '1', key])
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err
      return await this.#driver.send(key, ['EVAL', READ_SCRIPT, '1', key])
    }
  }
}

/**
 * Sessions in Redis, in connect-redis's layout: a STRING `<prefix><sid>` holding the session JSON,
 * expiring with the session's cookie (else after `ttl`), so sessions written by express-session +
 * connect-redis are read here and the other way round.
 *
 * Commands: `get` is one `GETEX` (a `GET` that a replica refuses) when this process knows an
 * expiry of the session still ahead (it read, wrote or refreshed it: the backend's `readText`),
 * else one `EVALSHA` of a script that reads the text and its expiry (`GET` + `PEXPIRETIME`). `set` is
 * `SET ... PXAT`; a touch or an unchanged session is `PEXPIREAT`; `destroy` is `DEL`; `length`,
 * `ids` and `clear` `SCAN` for `<prefix>*` (`COUNT scanCount`) on every master of a cluster and
 * delete one key per command (no command spans two hash slots). With `waitReplicas`, each of these
 * writes goes as the pipeline `CLIENT ID`, the write, `WAIT`, `CLIENT ID` (one round trip).
 * Needs Redis 7.0 or later (`PEXPIRETIME`).
 *
 * When the client has lost its connection, calls fail at once with `FST_FLEET_SESSION_BACKEND`
 * instead of waiting in the client's queue; any call still waiting after `timeout` fails with
 * `FST_FLEET_SESSION_TIMEOUT`. The store works again as soon as the client has reconnected.
 */
export class RedisStore extends BackendStore {
  readonly #driver: RedisDriver
  readonly #client: RedisClientLike
  readonly #prefix: string

  constructor (options: RedisStoreOptions) {
    const { own, common } = splitOptions(options, REDIS_KEYS)
    const driver = redisDriver(own.client)
    const prefix = check.string('prefix', own.prefix, REDIS_DEFAULTS.prefix, true)
    const scanCount = check.number('scanCount', own.scanCount, REDIS_DEFAULTS.scanCount, { min: 1, integer: true })
    const closeClient = check.boolean('closeClient', own.closeClient, REDIS_DEFAULTS.closeClient)
    const wait = waitReplicasOption(own.waitReplicas, driver)
    super(new RedisBackend(driver, prefix, scanCount, closeClient, wait), common)
    if (wait !== null && wait.timeout >= this.options.timeout) {
      check.invalid('waitReplicas.timeout', `expected less than timeout (${this.options.timeout} ms), got ${wait.timeout}`)
    }
    this.#driver = driver
    this.#client = own.client as RedisClientLike
    this.#prefix = prefix
    const queue = driver.unboundedQueue()
    if (queue !== null) report(this.options.logger, 'warn', new FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE(queue), {})
  }

  /** Which library the client comes from. */
  get library (): 'ioredis' | 'node-redis' {
    return this.#driver.library
  }

  /**
   * A new channel for `TieredStore`'s invalidation: Redis pub/sub on `fastify-fleet:invalidate:<prefix>`,
   * published with the client, heard on a duplicate of it that the channel opens and closes
   * (`redis-invalidation.ts`). Throws `FST_FLEET_SESSION_INVALID_OPTION` for a cluster or sentinel
   * client of node-redis and an ioredis `Cluster`.
   */
  invalidationChannel (): InvalidationChannel {
    return redisInvalidation(this.#client, this.#driver, `fastify-fleet:invalidate:${this.#prefix}`, this.options.timeout)
  }
}
