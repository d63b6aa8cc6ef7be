import { test } from 'tap'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { ioredisClient, LIBRARIES, nodeRedisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { startRedisServer } from '../helpers/redis-server.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 })

/** Retries `fn` every 25 ms until it resolves or `ms` pass. */
async function eventually<T> (fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(25)
    }
  }
}

for (const library of LIBRARIES) {
  test(`${library}: Redis goes away under the store, calls fail fast, and it works again once Redis is back`, async (t) => {
    const server = await startRedisServer(t)
    if (server === null) return
    const timeout = 2000
    const client = (library === 'ioredis'
      ? ioredisClient(t, server.port, { retryStrategy: (times: number) => Math.min(times * 50, 200) })
      : await nodeRedisClient(t, server.port)) as unknown as RedisClientLike
    const store = new RedisStore({ client, prefix: uniquePrefix(`fault-${library}`), timeout })
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
