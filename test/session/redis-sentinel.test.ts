import { Redis } from 'ioredis'
import { createSentinel } from 'redis'
import { test } from 'tap'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { uniquePrefix } from '../helpers/redis-clients.js'
import { SENTINEL_NAME, startRedisSentinel, type RedisSentinelHandle } from '../helpers/redis-sentinel.js'
import type { RedisServerTest } from '../helpers/redis-server.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 })

async function sentinelClient (t: RedisServerTest, library: 'ioredis' | 'node-redis', setup: RedisSentinelHandle): Promise<RedisClientLike> {
  if (library === 'ioredis') {
    const client = new Redis({ sentinels: [{ host: '127.0.0.1', port: setup.sentinel }], name: SENTINEL_NAME, retryStrategy: () => 100 })
    client.on('error', () => {})
    t.teardown(() => { client.disconnect() })
    await client.ping()
    return client
  }
  const client = createSentinel({ name: SENTINEL_NAME, sentinelRootNodes: [{ host: '127.0.0.1', port: setup.sentinel }] })
  client.on('error', () => {})
  t.teardown(async () => { if (client.isOpen) await client.close() })
  await client.connect()
  return client as unknown as RedisClientLike
}

for (const library of ['ioredis', 'node-redis'] as const) {
  test(`${library}: RedisStore through Sentinel keeps working across a forced failover`, async (t) => {
    const setup = await startRedisSentinel(t)
    if (setup === null) return
    const client = await sentinelClient(t, library, setup)
    const store = new RedisStore({ client, prefix: uniquePrefix(`sentinel-${library}`), timeout: 500, closeClient: true })
    t.equal(store.library, library)
    await store.set('before', { cookie: cookie(), user: 'ada' })
    await setup.cli(setup.master, 'wait', '1', '2000')
    t.equal((await store.ids()).length, 1)

    const old = await setup.currentMaster()
    // a sentinel that has just met its replica may refuse at first (NOGOODSLAVE): ask until it agrees
    const asked = Date.now()
    let answer = (await setup.cli(setup.sentinel, 'sentinel', 'failover', SENTINEL_NAME)).trim()
    while (answer !== 'OK' && Date.now() - asked < 15_000) {
      t.comment(`the sentinel answered ${answer}; asking again`)
      await sleep(200)
      answer = (await setup.cli(setup.sentinel, 'sentinel', 'failover', SENTINEL_NAME)).trim()
    }
    t.equal(answer, 'OK', 'the sentinel starts the failover')
    const started = Date.now()
    let failures = 0
    let okAfterSwitch = 0
    // keep using the store until it has answered 20 times after the switch (20 s at most)
    while (okAfterSwitch < 20 && Date.now() - started < 20_000) {
      try {
        await store.set('during', { cookie: cookie(), n: failures })
        if ((await store.get('before'))?.user !== 'ada') throw new Error('session lost')
        if (await setup.currentMaster() !== old) okAfterSwitch++
      } catch (err) {
        failures++
        if (!/^FST_FLEET_SESSION_(BACKEND|TIMEOUT)$/.test(String((err as { code?: string }).code))) throw err
        await sleep(50)
      }
    }
    t.equal(okAfterSwitch, 20, 'works again within 20 s; every failure meanwhile was a coded error')
    t.not(await setup.currentMaster(), old, 'the replica was promoted')
    t.comment(`${failures} failed calls during the failover (${Date.now() - started} ms)`)
    t.equal((await store.get('before'))?.user, 'ada', 'the session survived on the new master')
    await store.close()
  })
}
