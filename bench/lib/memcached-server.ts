// The Memcached scenario's server: a throwaway `memcached` (no UDP, loopback only; as the system user
// `memcache` when the harness runs as root, which memcached refuses), and the commands/request metric.
import { createConnection } from 'node:net'
import { memcachedCommandsPerRequest, parseStats } from './memcached-stats.js'
import type { LoadMetric } from './scenario.js'
import { HOST, startThrowaway, type ThrowawayServer } from './throwaway-server.js'

/** A throwaway `memcached` started by the harness. */
export interface MemcachedServer extends ThrowawayServer {
  /** `127.0.0.1:<port>`, as memjs and the `memcached` client take it. */
  servers: string
}

/** Starts a throwaway `memcached` on a free loopback port and waits until it answers `version`. */
export async function startMemcachedServer (timeoutMs = 10_000): Promise<MemcachedServer> {
  const root = process.getuid?.() === 0
  const server = await startThrowaway({
    command: 'memcached',
    args: (port) => ['-l', HOST, '-p', String(port), '-U', '0', ...(root ? ['-u', 'memcache'] : [])],
    install: 'memcached',
    probe: { send: 'version', expect: 'VERSION' }
  }, timeoutMs)
  return { ...server, servers: `${HOST}:${server.port}` }
}

/** The `stats` reply of the memcached on `port` (one connection per call: a snapshot is rare). */
function stats (port: number, timeoutMs = 3000): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port })
    let reply = ''
    socket.setTimeout(timeoutMs, () => {
      socket.destroy()
      reject(new Error(`memcached on port ${port} did not answer stats within ${timeoutMs} ms`))
    })
    socket.once('error', reject)
    socket.once('connect', () => socket.write('stats\r\n'))
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk
      if (!reply.endsWith('END\r\n')) return
      socket.destroy()
      resolve(parseStats(reply))
    })
  })
}

/**
 * A metric for the loads of servers that share the memcached on `port` (and nothing else does): the
 * gets (one per key), sets, touches and deletes it ran during a load per request answered or failed.
 */
export function memcachedCommandsMetric (port: number, label = 'Memcached commands/request'): LoadMetric {
  return {
    label,
    start: async () => {
      const before = await stats(port)
      return async (result) => memcachedCommandsPerRequest(before, await stats(port), result.requests + result.failures)
    }
  }
}
