// Redis clients for the RedisStore tests: ioredis and node-redis, each listened on for 'error' (an
// unhandled one would end the process) and closed when the test ends.
import { Redis, type RedisOptions } from 'ioredis'
import { createClient } from 'redis'
import type { RedisServerTest } from './redis-server.js'

export type Library = 'ioredis' | 'node-redis'
export const LIBRARIES: Library[] = ['ioredis', 'node-redis']

const makeNodeRedis = (port: number, reconnect: boolean) => createClient({
  socket: { host: '127.0.0.1', port, connectTimeout: 1000, reconnectStrategy: reconnect ? (retries: number) => Math.min(50 * retries, 500) : false }
})

/** A node-redis client. */
export type NodeRedisClient = ReturnType<typeof makeNodeRedis>

/** An ioredis client of `port`, closed at teardown; `options` go to ioredis. */
export function ioredisClient (t: RedisServerTest, port: number, options: RedisOptions = {}): Redis {
  const client = new Redis({ host: '127.0.0.1', port, ...options })
  client.on('error', () => {})
  t.teardown(() => { client.disconnect() })
  return client
}

/** A node-redis client of `port`, connected unless `connect: false`, closed at teardown. */
export async function nodeRedisClient (t: RedisServerTest, port: number, connect = true, reconnect = true): Promise<NodeRedisClient> {
  const client = makeNodeRedis(port, reconnect)
  client.on('error', () => {})
  t.teardown(() => { if (client.isOpen) client.destroy() })
  if (connect) await client.connect()
  return client
}

/** A connected client of `library`. */
export async function clientOf (t: RedisServerTest, library: Library, port: number): Promise<Redis | NodeRedisClient> {
  if (library === 'node-redis') return await nodeRedisClient(t, port)
  const client = ioredisClient(t, port)
  await client.ping()
  return client
}

/** A prefix no other test uses. */
export const uniquePrefix = (label: string): string => `fleet-test:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`

/**
 * `client` behind a proxy that records the name of every command it sends (`MULTI` for a
 * transaction, then the commands queued in it), to count what reaches Redis.
 */
export function countingClient<C extends object> (client: C): { client: C, commands: string[] } {
  const commands: string[] = []
  const record = (args: unknown[]): void => {
    const first = args[0]
    commands.push(String(Array.isArray(first) ? first[0] : first).toUpperCase())
  }
  const wrapMulti = (multi: Record<string, unknown>): object => new Proxy(multi, {
    get (target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop === 'call' || prop === 'addCommand') {
        return (...args: unknown[]) => { record(args); (value as (...a: unknown[]) => unknown).apply(target, args); return wrapped }
      }
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  let wrapped: object
  const proxy = new Proxy(client, {
    get (target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop === 'call' || prop === 'sendCommand') {
        return (...args: unknown[]) => { record(args); return (value as (...a: unknown[]) => unknown).apply(target, args) }
      }
      if (prop === 'multi') {
        return () => {
          commands.push('MULTI')
          wrapped = wrapMulti((value as () => Record<string, unknown>).call(target))
          return wrapped
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { client: proxy, commands }
}
