import { Redis } from 'ioredis'
import { commandsPerRequest, parseCommandStats } from './redis-info.js'
import type { LoadMetric, Scenario } from './scenario.js'
import { HOST, startThrowaway, type ThrowawayServer } from './throwaway-server.js'

/** A throwaway `redis-server` started by the harness. */
export interface RedisServer extends ThrowawayServer {
  /** `redis://127.0.0.1:<port>` */
  url: string
}

/**
 * Starts a throwaway `redis-server` on a free loopback port, without persistence, and waits until it
 * answers `PING`. It is stopped with the harness's other children if the harness exits first.
 * Rejects with a `ToolMissingError` when `command` is not installed.
 */
export async function startRedisServer (command = 'redis-server', timeoutMs = 10_000): Promise<RedisServer> {
  const server = await startThrowaway({
    command,
    // no persistence, in the foreground; loopback only
    args: (port) => ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    install: 'redis-server',
    probe: { send: 'PING', expect: '+PONG' }
  }, timeoutMs)
  return { ...server, url: `redis://${HOST}:${server.port}` }
}

/**
 * A metric for the loads of servers that share the Redis at `url` (and nothing else does): the
 * commands Redis ran during a load (from `INFO commandstats`, its own `INFO` left out, `MULTI` and
 * `EXEC` counted) per request answered or failed. `close()` ends its connection.
 */
export function redisCommandsMetric (url: string, label = 'Redis commands/request'): LoadMetric & { close: () => Promise<void> } {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  const snapshot = async (): Promise<Record<string, number>> => parseCommandStats(await client.info('commandstats'))
  return {
    label,
    start: async () => {
      const before = await snapshot()
      return async (result) => commandsPerRequest(before, await snapshot(), result.requests + result.failures)
    },
    close: async () => {
      await client.quit().catch(() => client.disconnect())
    }
  }
}

/**
 * `setup()` of a scenario on Redis: a throwaway `redis-server` (its url in `REDIS_URL` for the
 * servers) and the Redis commands/request metric, both stopped by its teardown.
 */
export const redisScenarioSetup: Scenario['setup'] = async () => {
  const redis = await startRedisServer()
  const commands = redisCommandsMetric(redis.url)
  return {
    env: { REDIS_URL: redis.url },
    metrics: [commands],
    teardown: async () => {
      await commands.close()
      await redis.stop()
    }
  }
}
