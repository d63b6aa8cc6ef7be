import { test } from 'tap'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { ioredisClient, LIBRARIES, nodeRedisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { eventually } from '../helpers/eventually.js'

const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 })

for (const library of LIBRARIES) {
  test(`${library}: Redis goes away under the store, calls fail fast, and it works again once Redis is back`, async (t) => {
    const server = await startRedisServer(t)
    if (server === null) return
    const timeout = 2000
    const client = (library === 'ioredis'
      ? ioredisClient(t, server.port, { retryStrategy: (times: number) => Math.min(times * 50, 200) })
      : await nodeRedisClient(t, server.port)) as unknown as RedisClientLike
    const store = new RedisStore({ client, prefix: uniquePrefix(`fault-${library}`), timeout, breaker: false })
    await eventually(() => store.set('before', { cookie: cookie(), user: 'ada' }), 5000)
    t.equal((await store.get('before'))?.user, 'ada', 'works while Redis is up')

    server.kill('SIGKILL')
    // the client notices the closed connection; from then on every call fails at once
    await eventually(async () => {
      const err = await store.get('before').then(() => null, (e: Error) => e)
      if (err === null) throw new Error('still answering')
    }, 5000)
    for (const [label, call] of Object.entries({
      get: () => store.get('before'),
      set: () => store.set('other', { cookie: cookie() }),
      destroy: () => store.destroy('before'),
      touch: () => store.touch('before', { cookie: cookie() }),
      length: () => store.length(),
      ids: () => store.ids(),
      clear: () => store.clear()
    })) {
      const started = performance.now()
      const err = await call().then(() => null, (e: Error) => e)
      const took = performance.now() - started
      t.equal((err as { code?: string } | null)?.code, 'FST_FLEET_SESSION_BACKEND', `${label}: a coded error`)
      t.match(String((err as Error | null)?.message), /Redis is unreachable/, `${label}: says why`)
      t.ok(took < timeout / 10, `${label}: fails fast (${took.toFixed(1)} ms, timeout ${timeout} ms)`)
    }

    await server.restart()
    await eventually(() => store.set('after', { cookie: cookie(), user: 'bob' }), 5000)
    t.equal((await store.get('after'))?.user, 'bob', 'works again after the restart, same store, same client')
    t.equal(await store.get('before'), null, 'what the old server held is gone (no persistence)')
    t.equal(await store.length(), 1)
    await store.close()
  })
}

for (const library of LIBRARIES) {
  test(`${library}: a master demoted to replica under the store (a failover) answers reads with an error, never with "no session"`, async (t) => {
    const server = await startRedisServer(t)
    const next = await startRedisServer(t)
    if (server === null || next === null) return
    const client = (library === 'ioredis' ? ioredisClient(t, server.port) : await nodeRedisClient(t, server.port)) as unknown as RedisClientLike
    const admin = ioredisClient(t, server.port)
    const prefix = uniquePrefix(`demoted-${library}`)
    const known = new RedisStore({ client, prefix })
    const fresh = new RedisStore({ client, prefix })
    await known.set('s', { cookie: cookie(), user: 'ada' })
    t.equal((await known.get('s'))?.user, 'ada', 'read once: the next read is GETEX')

    // the old master follows the new one (empty): it turns read-only and drops its data as it syncs
    await admin.call('REPLICAOF', '127.0.0.1', String(next.port))
    for (const [label, store] of [['GETEX', known], ['the script', fresh]] as const) {
      const err = await store.get('s').then(() => null, (e: Error) => e)
      t.match(err, { code: 'FST_FLEET_SESSION_BACKEND', message: /READONLY/ }, `${label}: refused by the replica, a coded error`)
    }
    await admin.call('REPLICAOF', 'NO', 'ONE')
  })
}
