/**
 * `RedisStore`'s invalidation channel: Redis pub/sub. Messages are published with the store's own
 * client and heard on a connection of the channel's own, a duplicate of that client (a connection
 * that subscribes can send nothing else), closed with the channel. Redis forgets the messages a
 * subscriber missed while disconnected: the channel says it stops listening as soon as the
 * connection drops, and listens again once it has subscribed anew.
 */
import { InvalidationMessages, bounded, type InvalidationChannel } from '../invalidation.js'
import { check } from '../options.js'
import type { IoRedisLike, NodeRedisLike, RedisClientLike, RedisDriver } from './redis-client.js'

/** The part of an ioredis `Redis` the channel uses besides `IoRedisLike`. */
interface IoRedisSubscriber {
  status: string
  connect: () => Promise<void>
  subscribe: (channel: string) => Promise<unknown>
  ping: () => Promise<unknown>
  disconnect: (reconnect?: boolean) => void
  on: (event: string, listener: (...args: any[]) => void) => unknown
}

/** The part of a node-redis client the channel uses besides `NodeRedisLike`. */
interface NodeRedisSubscriber {
  isOpen: boolean
  connect: () => Promise<unknown>
  subscribe: (channel: string, listener: (message: string) => void) => Promise<unknown>
  sendCommand: (args: string[]) => Promise<unknown>
  destroy: () => void
  on: (event: string, listener: (...args: any[]) => void) => unknown
}

/** What each library's subscriber gives the channel. */
interface Subscriber {
  /** Connects and subscribes; `heard` gets each message, `listening` each change of state. */
  start: (heard: (message: string) => void, listening: (listening: boolean) => void) => void
  ping: () => Promise<unknown>
  close: () => void
}

const UNSUPPORTED = 'RedisStore has no invalidation channel on a Redis Cluster or Sentinel client of node-redis, nor on an ioredis Cluster: ' +
  'pass invalidation: false (copies then live near.ttl) or a channel of your own'

function ioredisSubscriber (client: IoRedisLike & { duplicate: (options: object) => IoRedisSubscriber }, channel: string): Subscriber {
  // subscribed again by hand after each reconnection, to know when it is done
  const sub = client.duplicate({ lazyConnect: true, autoResubscribe: false })
  let closed = false
  return {
    start: (heard, listening) => {
      sub.on('error', () => {})
      sub.on('message', (_channel: string, message: string) => { heard(message) })
      sub.on('close', () => { if (!closed) listening(false) })
      sub.on('ready', () => {
        sub.subscribe(channel).then(() => { if (!closed) listening(true) }, () => {})
      })
      sub.connect().catch(() => {})
    },
    ping: () => sub.ping(),
    close: () => {
      closed = true
      sub.disconnect()
    }
  }
}

function nodeRedisSubscriber (client: NodeRedisLike & { duplicate: () => NodeRedisSubscriber }, channel: string): Subscriber {
  const sub = client.duplicate()
  let closed = false
  let subscribed = false
  const end = (): void => {
    try {
      sub.destroy()
    /* c8 ignore next - node-redis v5 throws when destroyed twice; v6 does not */
    } catch {}
  }
  return {
    start: (heard, listening) => {
      const down = (): void => { if (!closed) listening(false) }
      sub.on('error', () => {})
      sub.on('reconnecting', down)
      sub.on('end', down)
      // node-redis subscribes again before it says 'ready' after a reconnection
      sub.on('ready', () => { if (subscribed && !closed) listening(true) })
      sub.connect().finally(() => {
        // node-redis v6 destroyed while it connects may still open the connection: ended once open
        if (closed) end()
      }).then(() => sub.subscribe(channel, heard)).then(() => {
        subscribed = true
        if (!closed) listening(true)
      }, () => {})
    },
    ping: () => sub.sendCommand(['PING']),
    close: () => {
      closed = true
      end()
    }
  }
}

/** The subscriber for `client`; refuses a cluster or sentinel client with `FST_FLEET_SESSION_INVALID_OPTION`. */
function subscriberOf (client: RedisClientLike, channel: string): Subscriber {
  const value = client as unknown as Record<string, unknown>
  if (typeof value.duplicate === 'function' && value.isCluster !== true) {
    if (typeof value.status === 'string') return ioredisSubscriber(client as never, channel)
    if (typeof value.nodeClient !== 'function' && typeof value.getMasterNode !== 'function') return nodeRedisSubscriber(client as never, channel)
  }
  return check.invalid('invalidation', UNSUPPORTED)
}

/**
 * The channel `name` over `client` (published through `driver`, the store's), bounded by `timeout`
 * ms per publish and ping.
 */
export function redisInvalidation (client: RedisClientLike, driver: RedisDriver, name: string, timeout: number): InvalidationChannel {
  const subscriber = subscriberOf(client, name)
  const messages = new InvalidationMessages()
  return {
    publish: async (sid) => {
      const offline = driver.offline()
      const sent = offline === null ? driver.send(name, ['PUBLISH', name, messages.encode(sid)]) : Promise.reject(new Error(`Redis is unreachable: ${offline}`))
      await bounded('invalidation publish', sent, timeout)
    },
    subscribe: (onInvalidate, onListening) => {
      subscriber.start((message) => { messages.receive(message, onInvalidate) }, onListening)
    },
    ping: async () => { await subscriber.ping() },
    close: async () => { subscriber.close() }
  }
}
