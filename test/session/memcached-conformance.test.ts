import net from 'node:net'
import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { MemcachedStore } from '../../plugins/session/stores/memcached.js'
import { memjsClient, uniqueMemcachedPrefix } from '../helpers/memcached-server.js'
import { freePort, type RedisServerTest } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'

/** A server that accepts connections and never answers; its connections are cut when the test ends. */
async function silentServer (t: RedisServerTest): Promise<number> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return (server.address() as net.AddressInfo).port
}

test('MemcachedStore passes the conformance suite, its faults included; it cannot list its sessions', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const prefix = uniqueMemcachedPrefix('conformance')
  const silentPort = await silentServer(t)
  const closedPort = await freePort()

  forTap(t, storeConformance((ctx) => new MemcachedStore({ ...ctx, servers, prefix }), {
    listing: false,
    // Memcached keeps items up to 1 MB (its -I), key and item header included
    largePayloadBytes: 1_000_000,
    // (memjs's own backstop, which drops a connection that does not answer, far behind the case's calls)
    hangingStore: (ctx) => new MemcachedStore({ ...ctx, servers: `127.0.0.1:${silentPort}`, prefix, clientOptions: { timeout: 60 } }),
    failingStore: (ctx) => new MemcachedStore({ ...ctx, servers: `127.0.0.1:${closedPort}`, prefix })
  }))
})

test('MemcachedStore on a memjs client of yours passes the direct cases too', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const client = memjsClient(t, `${memcached.host}:${memcached.port}`)
  const prefix = uniqueMemcachedPrefix('conformance-client')
  forTap(t, storeConformance((ctx) => new MemcachedStore({ ...ctx, client, prefix }), { listing: false, app: false, largePayloadBytes: 1_000_000 }))
})
