// An Express app (express-session + connect-redis) and a Fastify app (@fastify/session + RedisStore)
// on one Redis share live sessions both ways, over real HTTP: what a team moving from Express keeps.
import { test } from 'tap'
import { RedisStore } from '../../plugins/session/index.js'
import { importUntyped, interopApps, logoutsCross, sessionsCross } from '../helpers/express-interop.js'
import { ioredisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { requireService } from '../helpers/services.js'

test('Express (express-session + connect-redis) and Fastify (RedisStore) share live sessions both ways', async (t) => {
  const redis = await requireService(t, 'redis')
  if (redis === null) return
  const client = ioredisClient(t, redis.port)
  const prefix = uniquePrefix('express')
  const modules = await importUntyped(t, ['express', 'express-session', 'connect-redis'])
  if (modules === null) return
  const [{ default: express }, { default: session }, { RedisStore: ConnectRedis }] = modules
  const store = new RedisStore({ client, prefix })
  t.teardown(() => store.clear())
  const { call } = await interopApps(t, { express, session, expressStore: new ConnectRedis({ client, prefix }), fastifyStore: store })

  const { ada, bob } = await sessionsCross(t, call)
  await logoutsCross(t, call, ada, bob)
  t.equal(await store.length(), 0, 'nothing left in Redis')
})
