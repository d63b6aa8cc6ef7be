// RedisStore's waitReplicas: each write followed by WAIT on its own connection, for every driver
// that can pin it there (ioredis Redis, node-redis client and sentinel), refused for clusters.
import { Redis } from 'ioredis'
import { createSentinel } from 'redis'
import { test } from 'tap'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { ioredisClient, nodeRedisClient, uniquePrefix } from '../helpers/redis-clients.js'
import { SENTINEL_NAME, startRedisSentinel, type RedisSentinelHandle } from '../helpers/redis-sentinel.js'
import { freePort, type RedisServerTest } from '../helpers/redis-server.js'

const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 })
const asClient = (client: unknown): RedisClientLike => client as RedisClientLike
const failure = async (run: () => Promise<unknown>): Promise<[string, string] | 'no error'> => {
  try {
    await run()
    return 'no error'
  } catch (err) {
    return [(err as { code: string }).code, (err as Error).message]
  }
}

test('waitReplicas is checked', async (t) => {
  const ioredis = ioredisClient(t, await freePort(), { lazyConnect: true })
  const invalid = (options: Record<string, unknown>): unknown => {
    try {
      return new RedisStore({ client: ioredis, ...options } as never).library
    } catch (err) {
      return [(err as { code: string }).code, (err as Error).message]
    }
  }
  const code = 'FST_FLEET_SESSION_INVALID_OPTION'
  const prefix = 'fastify-fleet/session: invalid option'
  t.equal(invalid({ waitReplicas: false }), 'ioredis')
  t.equal(invalid({ waitReplicas: undefined }), 'ioredis')
  t.equal(invalid({ waitReplicas: { count: 1, timeout: 1999 } }), 'ioredis')
  t.strictSame(invalid({ waitReplicas: true }), [code, `${prefix} waitReplicas: expected an object, got true`])
  t.strictSame(invalid({ waitReplicas: { count: 1, timeout: 100, every: 1 } }), [code, `${prefix} waitReplicas.every: unknown option`])
  t.strictSame(invalid({ waitReplicas: { timeout: 100 } }), [code, `${prefix} waitReplicas.count: expected a whole number ≥ 1, got undefined`])
  t.strictSame(invalid({ waitReplicas: { count: 0, timeout: 100 } }), [code, `${prefix} waitReplicas.count: expected a whole number ≥ 1, got 0`])
  t.strictSame(invalid({ waitReplicas: { count: 1 } }), [code, `${prefix} waitReplicas.timeout: expected a whole number ≥ 1, got undefined`])
  // WAIT 0 would wait for ever; past the store's timeout the call would fail before WAIT answers
  t.strictSame(invalid({ waitReplicas: { count: 1, timeout: 0 } }), [code, `${prefix} waitReplicas.timeout: expected a whole number ≥ 1, got 0`])
  t.strictSame(invalid({ waitReplicas: { count: 1, timeout: 500 }, timeout: 500 }),
    [code, `${prefix} waitReplicas.timeout: expected less than timeout (500 ms), got 500`])
  const cluster = `${prefix} waitReplicas: not with a cluster client: it routes each command on its own, so WAIT cannot follow a write on its connection`
  const ioredisCluster = { call () {}, multi () {}, pipeline () {}, status: 'ready', isCluster: true, options: {} }
  const nodeRedisCluster = { sendCommand () {}, multi () {}, close () {}, nodeClient () {}, masters: [], isOpen: true, isReady: true }
  t.strictSame(invalid({ client: ioredisCluster, waitReplicas: { count: 1, timeout: 100 } }), [code, cluster])
  t.strictSame(invalid({ client: nodeRedisCluster, waitReplicas: { count: 1, timeout: 100 } }), [code, cluster])
  t.equal(invalid({ client: ioredisCluster }), 'ioredis', 'a cluster without waitReplicas is fine')
})

test('a write that reached the master but not the replicas fails; a reconnection in between too', async (t) => {
  // an ioredis-shaped client whose pipeline answers [CLIENT ID, write, WAIT, CLIENT ID] as told
  const fake = (replies: Array<[Error | null, unknown]>, status = 'ready'): { client: RedisClientLike, sent: string[][] } => {
    const sent: string[][] = []
    const pipeline = { call: (...args: string[]) => { sent.push(args); return pipeline }, exec: async () => replies }
    return { client: asClient({ call () {}, multi () {}, pipeline: () => pipeline, status, options: {} }), sent }
  }
  const store = (client: RedisClientLike): RedisStore => new RedisStore({ client, prefix: 'p:', waitReplicas: { count: 2, timeout: 300 } })
  const ok = fake([[null, 7], [null, 'OK'], [null, 2], [null, 7]])
  t.equal(await failure(() => store(ok.client).set('a', { cookie: cookie() })), 'no error')
  t.strictSame(ok.sent.map((args) => args.slice(0, 2)), [['CLIENT', 'ID'], ['SET', 'p:a'], ['WAIT', '2'], ['CLIENT', 'ID']])
  t.strictSame(ok.sent[2], ['WAIT', '2', '300'])
  t.strictSame(await failure(() => store(fake([[null, 7], [null, 'OK'], [null, 1], [null, 7]]).client).set('a', { cookie: cookie() })),
    ['FST_FLEET_SESSION_BACKEND', 'fastify-fleet/session: set failed: 1 of 2 replicas acknowledged the write within 300 ms (waitReplicas)'])
  t.strictSame(await failure(() => store(fake([[null, 7], [null, 'OK'], [null, 2], [null, 8]]).client).destroy('a')),
    ['FST_FLEET_SESSION_BACKEND', 'fastify-fleet/session: destroy failed: the connection changed between the write and its WAIT: replication unknown'])
  t.strictSame(await failure(() => store(fake([[null, 7], [new Error('READONLY replica'), null], [null, 0], [null, 7]]).client).set('a', { cookie: cookie() })),
    ['FST_FLEET_SESSION_BACKEND', 'fastify-fleet/session: set failed: READONLY replica'])
  const offline = fake([], 'reconnecting')
  t.strictSame(await failure(() => store(offline.client).set('a', { cookie: cookie() })),
    ['FST_FLEET_SESSION_BACKEND', 'fastify-fleet/session: set failed: Redis is unreachable: the ioredis client is reconnecting'])
  t.strictSame(offline.sent, [], 'nothing is sent while the client is offline')
})

async function clients (t: RedisServerTest, setup: RedisSentinelHandle): Promise<Array<[string, RedisClientLike]>> {
  const ioredis = ioredisClient(t, setup.master)
  await ioredis.ping()
  const sentinel = createSentinel({ name: SENTINEL_NAME, sentinelRootNodes: [{ host: '127.0.0.1', port: setup.sentinel }], masterPoolSize: 3 })
  sentinel.on('error', () => {})
  t.teardown(async () => { if (sentinel.isOpen) await sentinel.close() })
  await sentinel.connect()
  const ioSentinel = new Redis({ sentinels: [{ host: '127.0.0.1', port: setup.sentinel }], name: SENTINEL_NAME })
  ioSentinel.on('error', () => {})
  t.teardown(() => { ioSentinel.disconnect() })
  await ioSentinel.ping()
  return [
    ['ioredis', asClient(ioredis)],
    ['ioredis through Sentinel', asClient(ioSentinel)],
    ['node-redis', asClient(await nodeRedisClient(t, setup.master))],
    ['node-redis Sentinel (a pool of 3)', asClient(sentinel)]
  ]
}

test('with a replica: every write is on the replica when it is acknowledged, for every driver', async (t) => {
  const setup = await startRedisSentinel(t)
  if (setup === null) return
  const replica = ioredisClient(t, setup.replica)
  for (const [name, client] of await clients(t, setup)) {
    const prefix = uniquePrefix('wait')
    const store = new RedisStore({ client, prefix, timeout: 5000, waitReplicas: { count: 1, timeout: 4000 } })
    // the replica is frozen by nothing: each acknowledged write is already readable there
    await store.set('a', { cookie: cookie(), user: 'ada' })
    t.match(await replica.get(`${prefix}a`), /"user":"ada"/, `${name}: set is on the replica`)
    const expiresAt = Date.now() + 7_200_000
    await store.touch('a', { cookie: { expires: new Date(expiresAt), originalMaxAge: 7_200_000 }, user: 'ada' })
    t.ok(Math.abs(Number(await replica.pexpiretime(`${prefix}a`)) - expiresAt) < 1000, `${name}: touch is on the replica`)
    await store.destroy('a')
    t.equal(await replica.exists(`${prefix}a`), 0, `${name}: destroy is on the replica`)
    await store.set('b', { cookie: cookie() })
    await store.set('c', { cookie: cookie() })
    await store.clear()
    t.equal((await replica.keys(`${prefix}*`)).length, 0, `${name}: clear is on the replica`)
    // two replicas asked of a master that has one: the write is refused after the wait
    const greedy = new RedisStore({ client, prefix, timeout: 5000, waitReplicas: { count: 2, timeout: 50 } })
    t.strictSame(await failure(() => greedy.set('d', { cookie: cookie() })),
      ['FST_FLEET_SESSION_BACKEND', 'fastify-fleet/session: set failed: 1 of 2 replicas acknowledged the write within 50 ms (waitReplicas)'], name)
  }
  // a write sent to the replica itself fails as the replica answers, not as acknowledged
  const onReplica = new RedisStore({ client: asClient(replica), prefix: uniquePrefix('wait'), waitReplicas: { count: 1, timeout: 100 } })
  t.match(await failure(() => onReplica.set('e', { cookie: cookie() })), ['FST_FLEET_SESSION_BACKEND', /READONLY/])
})

test('a replica that lags: the master acknowledges a write the replica does not hold, waitReplicas does not', async (t) => {
  const setup = await startRedisSentinel(t)
  if (setup === null) return
  const client = asClient(ioredisClient(t, setup.master))
  const prefix = uniquePrefix('lag')
  const plain = new RedisStore({ client, prefix })
  const durable = new RedisStore({ client, prefix, waitReplicas: { count: 1, timeout: 200 } })
  // while the replica reads the stream, with time to spare on a loaded machine (a replica that was
  // just started, or just woken up, can take more than 200 ms to acknowledge)
  const patient = new RedisStore({ client, prefix, timeout: 20_000, waitReplicas: { count: 1, timeout: 10_000 } })
  await patient.set('warm', { cookie: cookie() })
  // a frozen replica is what a busy machine makes of it for a while: it reads nothing of the stream
  setup.signal(setup.replica, 'SIGSTOP')
  t.teardown(() => { setup.signal(setup.replica, 'SIGCONT') })
  t.equal(await failure(() => plain.set('a', { cookie: cookie(), user: 'ada' })), 'no error', 'the master alone acknowledges the write')
  // WAIT on a connection that wrote nothing (redis-cli's) answers at once: it proves nothing
  t.equal((await setup.cli(setup.master, 'wait', '1', '200')).trim(), '1', 'a WAIT of another connection counts the replica')
  t.strictSame(await failure(() => durable.set('b', { cookie: cookie(), user: 'ada' })),
    ['FST_FLEET_SESSION_BACKEND', 'fastify-fleet/session: set failed: 0 of 1 replicas acknowledged the write within 200 ms (waitReplicas)'])
  setup.signal(setup.replica, 'SIGCONT')
  t.equal(await failure(() => patient.set('c', { cookie: cookie(), user: 'ada' })), 'no error', 'acknowledged again once the replica reads')
})
