import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { uniquePrefix } from '../helpers/redis-clients.js'
import { startRedisCluster, type RedisClusterHandle } from '../helpers/redis-cluster.js'
import type { RedisServerTest } from '../helpers/redis-server.js'

type Library = 'ioredis' | 'node-redis'

async function clusterClient (t: RedisServerTest, library: Library, cluster: RedisClusterHandle): Promise<RedisClientLike> {
  const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }))
  if (library === 'ioredis') {
    const client = new Cluster(nodes)
    client.on('error', () => {})
    t.teardown(() => { client.disconnect() })
    await new Promise((resolve) => client.once('ready', resolve))
    return client as unknown as RedisClientLike
  }
  const client = createCluster({ rootNodes: nodes.map(({ host, port }) => ({ socket: { host, port } })) })
  client.on('error', () => {})
  t.teardown(async () => { if (client.isOpen) await client.close() })
  await client.connect()
  return client as unknown as RedisClientLike
}

test('RedisStore on a real 3-master Redis Cluster', async (t) => {
  const cluster = await startRedisCluster(t)
  if (cluster === null) return
  for (const library of ['ioredis', 'node-redis'] as const) {
    await t.test(`${library}: the conformance suite`, async (t) => {
      const client = await clusterClient(t, library, cluster)
      const prefix = uniquePrefix(`cluster-${library}`)
      forTap(t, storeConformance((ctx) => new RedisStore({ ...ctx, client, prefix }), { app: true }))
    })

    await t.test(`${library}: length, ids and clear see the keys of every master, one DEL per key`, async (t) => {
      const store = new RedisStore({ client: await clusterClient(t, library, cluster), prefix: uniquePrefix(`cluster-scan-${library}`), scanCount: 5, closeClient: true })
      const ids = Array.from({ length: 60 }, (_, i) => `id-${i}`)
      await Promise.all(ids.map((sid) => store.set(sid, { cookie: { expires: new Date(Date.now() + 60_000), originalMaxAge: 60_000 }, n: sid })))
      t.equal(await store.length(), 60, 'all 60, spread over the 3 masters')
      t.strictSame((await store.ids()).sort(), [...ids].sort())
      await store.clear()
      t.equal(await store.length(), 0, 'cleared on every master')
      await store.close()
    })
  }
})
