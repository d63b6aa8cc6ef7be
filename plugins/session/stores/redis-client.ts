/**
 * The Redis clients `RedisStore` takes, told apart by shape (no import of either library): an
 * ioredis `Redis` (Sentinel-backed too) or `Cluster`, or a node-redis v5/v6 client, cluster or
 * sentinel client. All are driven through their raw command API (`call` / `sendCommand`), so the
 * store needs no per-library command names.
 */
import { isObject } from '../../internal/option-kit.js'
import { check } from '../options.js'

/** The part of an ioredis `Redis` client the store uses. */
export interface IoRedisLike {
  /** `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close` or `end`. */
  status: string
  call: (command: string, ...args: string[]) => Promise<unknown>
  multi: () => IoRedisMultiLike
  /** Commands sent together on the client's one connection, without `MULTI`. */
  pipeline: () => IoRedisMultiLike
  quit: () => Promise<unknown>
  disconnect: () => void
  options: { enableOfflineQueue?: boolean, maxRetriesPerRequest?: number | null }
  isCluster?: boolean
  /** ioredis `Cluster`: its nodes (`'master'`: the masters). */
  nodes?: (role: 'master') => Array<{ call: (command: string, ...args: string[]) => Promise<unknown> }>
}

/** An ioredis transaction or pipeline. */
export interface IoRedisMultiLike {
  call: (command: string, ...args: string[]) => IoRedisMultiLike
  exec: () => Promise<Array<[Error | null, unknown]> | null>
}

/** The part of a node-redis v5/v6 client (`createClient()`, connected) the store uses. */
export interface NodeRedisLike {
  isOpen: boolean
  isReady: boolean
  sendCommand: (args: string[]) => Promise<unknown>
  multi: () => NodeRedisMultiLike
  /** node-redis v5+ (`quit()` is deprecated there). */
  close: () => Promise<unknown>
}

/** A node-redis transaction. */
export interface NodeRedisMultiLike {
  addCommand: (args: string[]) => NodeRedisMultiLike
  exec: () => Promise<unknown[]>
  /** The commands as a pipeline on one connection, without `MULTI`. */
  execAsPipeline: () => Promise<unknown[]>
}

/** The part of a node-redis v5/v6 cluster (`createCluster()`, connected) the store uses. */
export interface NodeRedisClusterLike {
  isOpen: boolean
  isReady: boolean
  masters: unknown[]
  nodeClient: (node: any) => Promise<{ sendCommand: (args: string[]) => Promise<unknown> }>
  sendCommand: (firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]) => Promise<unknown>
  multi: (routing?: string) => NodeRedisClusterMultiLike
  close: () => Promise<unknown>
}

/** A node-redis cluster transaction (its commands on one slot). */
export interface NodeRedisClusterMultiLike {
  addCommand: (firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]) => NodeRedisClusterMultiLike
  exec: () => Promise<unknown[]>
}

/** The part of a node-redis v5/v6 sentinel client (`createSentinel()`, connected) the store uses. */
export interface NodeRedisSentinelLike {
  isOpen: boolean
  isReady: boolean
  getMasterNode: () => unknown
  sendCommand: (isReadonly: boolean | undefined, args: string[]) => Promise<unknown>
  multi: () => NodeRedisSentinelMultiLike
  close: () => Promise<unknown>
}

/** A node-redis sentinel transaction. */
export interface NodeRedisSentinelMultiLike {
  addCommand: (isReadonly: boolean | undefined, args: string[]) => NodeRedisSentinelMultiLike
  exec: () => Promise<unknown[]>
  /** The commands as a pipeline on one connection of the master pool, without `MULTI`. */
  execAsPipeline: () => Promise<unknown[]>
}

/** A client `RedisStore` accepts. */
export type RedisClientLike = IoRedisLike | NodeRedisLike | NodeRedisClusterLike | NodeRedisSentinelLike

/** What the store asks of a client, whichever library it comes from. */
export interface RedisDriver {
  readonly library: 'ioredis' | 'node-redis'
  /** Why a command would wait for a connection instead of answering now; `null` when connected. */
  offline: () => string | null
  /** Sends a command about `key` (a cluster routes it to the key's slot). */
  send: (key: string, args: string[]) => Promise<unknown>
  /**
   * Sends commands in order on one connection, in one round trip and without `MULTI`, and gives
   * their replies (rejects with the first error reply); `null` for a cluster client, which routes
   * each command on its own. What `WAIT` needs: it counts the writes of the connection it runs on.
   */
  pipeline: ((commands: string[][]) => Promise<unknown[]>) | null
  /** A sender per master (one for a single server): where `SCAN` must run to see every key. */
  masters: () => Promise<Array<(args: string[]) => Promise<unknown>>>
  /** Closes the connection (`QUIT`, or a hard disconnect when that fails). */
  close: () => Promise<void>
  /** Why the client's settings can queue commands without bound; `null` when they cannot. */
  unboundedQueue: () => string | null
}

/** ioredis states in which a command waits for a reconnection (or is refused by ioredis). */
const IOREDIS_DOWN = new Set(['reconnecting', 'close', 'end'])

const fnOf = (value: Record<string, unknown>, name: string): boolean => typeof value[name] === 'function'

function ioredisDriver (client: IoRedisLike): RedisDriver {
  return {
    library: 'ioredis',
    offline: () => IOREDIS_DOWN.has(client.status) ? `the ioredis client is ${client.status}` : null,
    // ioredis finds the key of each command itself (EVALSHA's too) to route it in a cluster
    send: (_key, args) => client.call(args[0] as string, ...args.slice(1)),
    pipeline: client.isCluster === true
      ? null
      : async (commands) => {
        const pipeline = client.pipeline()
        for (const args of commands) pipeline.call(args[0] as string, ...args.slice(1))
        // (a pipeline's exec() never gives null: that is a transaction's aborted by WATCH)
        const replies = await pipeline.exec() as Array<[Error | null, unknown]>
        return replies.map(([err, reply]) => {
          if (err !== null) throw err
          return reply
        })
      },
    masters: async () => (client.nodes?.('master') ?? [client]).map((node) => (args: string[]) => node.call(args[0] as string, ...args.slice(1))),
    close: async () => {
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    },
    unboundedQueue: () => client.options.enableOfflineQueue !== false && client.options.maxRetriesPerRequest === null
      ? 'ioredis has enableOfflineQueue: true and maxRetriesPerRequest: null, so commands wait for Redis without bound ' +
        '(calls still fail after the store timeout, but the queued commands pile up and run when Redis is back); ' +
        'set maxRetriesPerRequest to a number or enableOfflineQueue: false'
      : null
  }
}

function nodeRedisDriver (client: NodeRedisLike): RedisDriver {
  return {
    library: 'node-redis',
    offline: () => client.isOpen && !client.isReady ? 'the node-redis client is reconnecting' : null,
    send: (_key, args) => client.sendCommand(args),
    pipeline: (commands) => {
      const pipeline = client.multi()
      for (const args of commands) pipeline.addCommand(args)
      return pipeline.execAsPipeline()
    },
    masters: async () => [(args) => client.sendCommand(args)],
    close: async () => {
      if (!client.isOpen) return
      await client.close()
    },
    unboundedQueue: () => null
  }
}

function nodeRedisClusterDriver (client: NodeRedisClusterLike): RedisDriver {
  return {
    library: 'node-redis',
    offline: () => client.isOpen && !client.isReady ? 'the node-redis cluster is reconnecting' : null,
    send: (key, args) => client.sendCommand(key, false, args),
    pipeline: null,
    masters: async () => {
      const nodes = await Promise.all(client.masters.map((master) => client.nodeClient(master)))
      return nodes.map((node) => (args: string[]) => node.sendCommand(args))
    },
    close: async () => {
      if (client.isOpen) await client.close()
    },
    unboundedQueue: () => null
  }
}

function nodeRedisSentinelDriver (client: NodeRedisSentinelLike): RedisDriver {
  const send = (args: string[]): Promise<unknown> => client.sendCommand(false, args)
  return {
    library: 'node-redis',
    offline: () => client.isOpen && !client.isReady ? 'the node-redis sentinel client is reconnecting' : null,
    send: (_key, args) => send(args),
    // one lease of the master pool for the whole pipeline (a pool of several connections would
    // spread separate commands over them)
    pipeline: (commands) => {
      const pipeline = client.multi()
      for (const args of commands) pipeline.addCommand(false, args)
      return pipeline.execAsPipeline()
    },
    masters: async () => [send],
    close: async () => {
      if (client.isOpen) await client.close()
    },
    unboundedQueue: () => null
  }
}

/** The driver of an ioredis or node-redis client; refuses anything else with `FST_FLEET_SESSION_INVALID_OPTION`. */
export function redisDriver (client: unknown): RedisDriver {
  if (!isObject(client)) check.invalid('client', 'expected an ioredis or node-redis client')
  const value = client as Record<string, unknown>
  if (fnOf(value, 'call') && fnOf(value, 'multi') && typeof value.status === 'string') {
    return ioredisDriver(client as unknown as IoRedisLike)
  }
  if (fnOf(value, 'sendCommand') && fnOf(value, 'multi') && fnOf(value, 'close') && fnOf(value, 'nodeClient') && Array.isArray(value.masters)) {
    return nodeRedisClusterDriver(client as unknown as NodeRedisClusterLike)
  }
  if (fnOf(value, 'sendCommand') && fnOf(value, 'multi') && fnOf(value, 'close') && fnOf(value, 'getMasterNode')) {
    return nodeRedisSentinelDriver(client as unknown as NodeRedisSentinelLike)
  }
  if (fnOf(value, 'sendCommand') && fnOf(value, 'multi') && fnOf(value, 'close') && typeof value.isReady === 'boolean') {
    return nodeRedisDriver(client as unknown as NodeRedisLike)
  }
  return check.invalid('client', 'expected an ioredis client (call(), multi(), status) or a node-redis v5/v6 client, cluster or sentinel (sendCommand(), multi(), close(), isReady)')
}
