import { test } from 'tap'
import { RedisStore, type RedisClientLike } from '../../plugins/session/index.js'
import { globEscape } from '../../plugins/session/stores/redis.js'
import { errorOf } from '../helpers/errors.js'
import { clientOf, countingClient, ioredisClient, LIBRARIES, nodeRedisClient, uniquePrefix, type Library } from '../helpers/redis-clients.js'
import { freePort } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'

const HOUR = 3_600_000
const cookie = (maxAge: number | null, now = Date.now()): Record<string, unknown> => ({
  expires: maxAge === null ? null : new Date(now + maxAge),
  originalMaxAge: maxAge,
  path: '/',
  httpOnly: true
})

const asClient = (client: unknown): RedisClientLike => client as RedisClientLike

test('options are checked, with coded errors', async (t) => {
  const ioredis = ioredisClient(t, await freePort(), { lazyConnect: true })
  const invalid = (options: Record<string, unknown>): unknown => {
    try {
      return new RedisStore(options as never)
    } catch (err) {
      return [(err as { code: string }).code, (err as Error).message]
    }
  }
  const code = 'FST_FLEET_SESSION_INVALID_OPTION'
  const not = 'expected an ioredis client (call(), multi(), status) or a node-redis v5/v6 client, cluster or sentinel (sendCommand(), multi(), close(), isReady)'
  t.strictSame(invalid({}), [code, 'fastify-fleet/session: invalid option client: expected an ioredis or node-redis client'])
  t.strictSame(invalid({ client: 'redis://localhost' }), [code, 'fastify-fleet/session: invalid option client: expected an ioredis or node-redis client'])
  t.strictSame(invalid({ client: { get () {} } }), [code, `fastify-fleet/session: invalid option client: ${not}`])
  t.strictSame(invalid({ client: { sendCommand () {}, multi () {}, isReady: true } }), [code, `fastify-fleet/session: invalid option client: ${not}`])
  t.strictSame(invalid({ client: ioredis, prefix: 7 }), [code, 'fastify-fleet/session: invalid option prefix: expected a string, got 7'])
  t.strictSame(invalid({ client: ioredis, scanCount: 0 }), [code, 'fastify-fleet/session: invalid option scanCount: expected a whole number ≥ 1, got 0'])
  t.strictSame(invalid({ client: ioredis, scanCount: 1.5 }), [code, 'fastify-fleet/session: invalid option scanCount: expected a whole number ≥ 1, got 1.5'])
  t.strictSame(invalid({ client: ioredis, closeClient: 'yes' }), [code, 'fastify-fleet/session: invalid option closeClient: expected a boolean, got "yes"'])
  t.strictSame(invalid({ client: ioredis, url: 'redis://x' }), [code, 'fastify-fleet/session: invalid option url: unknown option'])
  // an ioredis Redis and a node-redis client fit RedisClientLike without a cast
  t.equal(new RedisStore({ client: ioredis }).library, 'ioredis')
  t.equal(new RedisStore({ client: asClient(await nodeRedisClient(t, await freePort(), false)) }).library, 'node-redis')
  t.equal(errorOf(() => new RedisStore({ client: asClient(ioredis), prefix: '', scanCount: 1, closeClient: true })), 'no error')
})

test('an ioredis client that queues without bound is reported at construction', async (t) => {
  const lines: Array<[string, unknown]> = []
  const logger = { warn: (obj: object) => { lines.push(['warn', (obj as { err: { code: string } }).err.code]) }, error: () => {} }
  const port = await freePort()
  const unbounded = ioredisClient(t, port, { lazyConnect: true, maxRetriesPerRequest: null })
  new RedisStore({ client: asClient(unbounded), logger }) // eslint-disable-line no-new
  new RedisStore({ client: asClient(ioredisClient(t, port, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false })), logger }) // eslint-disable-line no-new
  new RedisStore({ client: asClient(ioredisClient(t, port, { lazyConnect: true })), logger }) // eslint-disable-line no-new
  t.strictSame(lines, [['warn', 'FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE']], 'only the client with both settings')
  const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
  new RedisStore({ client: asClient(unbounded) }) // eslint-disable-line no-new
  t.match(await warned, { code: 'FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE', message: /maxRetriesPerRequest: null/ }, 'a process warning by default')
})

test('SCAN patterns escape the glob characters of the prefix', async (t) => {
  t.equal(globEscape('a*b?[c]\\d:'), 'a\\*b\\?\\[c\\]\\\\d:')
})

for (const library of LIBRARIES) {
  test(`${library}: connect-redis's layout`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const raw = await clientOf(t, library, redis.port)
    const client = asClient(raw)
    const prefix = uniquePrefix(`layout-${library}`)
    const store = new RedisStore({ client, prefix, ttl: 300 })
    t.teardown(() => store.clear())
    const send = (args: string[]): Promise<unknown> => library === 'ioredis'
      ? (raw as { call: (...a: string[]) => Promise<unknown> }).call(...args)
      : (raw as { sendCommand: (a: string[]) => Promise<unknown> }).sendCommand(args)

    const session = { cookie: cookie(HOUR), user: 'ada', views: 2 }
    await store.set('one', session)
    t.equal(await send(['GET', `${prefix}one`]), JSON.stringify(session), 'a STRING holding the session JSON')
    t.equal(await send(['TYPE', `${prefix}one`]), 'string')
    const ttl = Number(await send(['PTTL', `${prefix}one`]))
    t.ok(ttl > HOUR - 2000 && ttl <= HOUR, `expires with the cookie (PTTL ${ttl})`)
    t.equal(Number(await send(['PEXPIRETIME', `${prefix}one`])), (session.cookie.expires as Date).getTime(), 'at its exact time')

    await store.set('browser', { cookie: cookie(null), user: 'bob' })
    const browserTtl = Number(await send(['TTL', `${prefix}browser`]))
    t.ok(browserTtl > 298 && browserTtl <= 300, `no cookie expiry: ttl seconds (TTL ${browserTtl})`)

    // what connect-redis writes: SET sess:<sid> <json> EX <seconds>
    const theirs = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString(), httpOnly: true, path: '/' }, user: 'eve' }
    await send(['SET', `${prefix}theirs`, JSON.stringify(theirs), 'EX', '60'])
    t.equal((await store.get('theirs'))?.user, 'eve', 'a session connect-redis wrote is read')
    await send(['SET', `${prefix}forever`, JSON.stringify({ user: 'zed' })])
    t.strictSame(await store.get('forever'), { user: 'zed' }, 'a key without expiry is read')

    t.equal(await store.length(), 4)
    t.strictSame((await store.ids()).sort(), ['browser', 'forever', 'one', 'theirs'])

    await send(['HSET', `${prefix}hash`, 'user', 'mallory'])
    const err = await store.get('hash').then(() => null, (e: Error) => e)
    t.match(err, { code: 'FST_FLEET_SESSION_BACKEND', message: /WRONGTYPE/ }, 'a key of another type: the error of the read, coded')
  })

  test(`${library}: touch moves the expiry with PEXPIREAT; disableTouch leaves it`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const counted = countingClient(await clientOf(t, library, redis.port))
    const prefix = uniquePrefix(`touch-${library}`)
    const store = new RedisStore({ client: asClient(counted.client), prefix })
    const frozen = new RedisStore({ client: asClient(counted.client), prefix, disableTouch: true })
    t.teardown(() => store.clear())
    const expiry = async (sid: string): Promise<number> => Date.parse(String((await store.get(sid))?.cookie?.expires))

    const now = Date.now()
    await store.set('s', { cookie: cookie(HOUR, now), user: 'ada' })
    counted.commands.length = 0
    await store.touch('s', { cookie: cookie(2 * HOUR, now) })
    t.strictSame(counted.commands, ['PEXPIREAT'], 'one command, the data left alone')
    t.equal(await expiry('s'), now + 2 * HOUR)
    counted.commands.length = 0
    await frozen.touch('s', { cookie: cookie(3 * HOUR, now) })
    t.strictSame(counted.commands, [], 'disableTouch: no command')
    t.equal(await expiry('s'), now + 2 * HOUR)
    await store.touch('gone', { cookie: cookie(HOUR, now) })
    t.equal(await store.get('gone'), null, 'touching a missing session creates nothing')
  })

  test(`${library}: write elision saves the write of an unchanged session`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const counted = countingClient(await clientOf(t, library, redis.port))
    const prefix = uniquePrefix(`elision-${library}`)
    const store = new RedisStore({ client: asClient(counted.client), prefix, touchAfter: 60 })
    const plain = new RedisStore({ client: asClient(counted.client), prefix, writeElision: false })
    t.teardown(() => store.clear())

    await store.set('s', { cookie: cookie(HOUR), user: 'ada' })
    const read = await store.get('s') as Record<string, unknown>
    counted.commands.length = 0
    await store.set('s', { ...read, cookie: cookie(HOUR) })
    t.strictSame(counted.commands, [], 'rolling, unchanged, within touchAfter: no command at all')
    // the same maxAge, an hour later
    await store.set('s', { ...read, cookie: cookie(HOUR, Date.now() + HOUR) })
    t.strictSame(counted.commands, ['PEXPIREAT'], 'unchanged, expiry far ahead: only the expiry moves')
    await store.set('s', { ...read, user: 'bob', cookie: cookie(HOUR, Date.now() + HOUR) })
    t.strictSame(counted.commands, ['PEXPIREAT', 'SET'], 'changed: written')
    t.equal((await store.get('s'))?.user, 'bob')

    await plain.get('s')
    counted.commands.length = 0
    await plain.set('s', { ...read, user: 'bob', cookie: cookie(2 * HOUR) })
    t.strictSame(counted.commands, ['SET'], 'writeElision: false writes every time')
  })

  test(`${library}: a read is one GETEX while this process knows the expiry, else the script`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const counted = countingClient(await clientOf(t, library, redis.port))
    const prefix = uniquePrefix(`read-${library}`)
    let clock = Date.now()
    const store = new RedisStore({ client: asClient(counted.client), prefix, now: () => clock })
    const other = new RedisStore({ client: asClient(counted.client), prefix })
    t.teardown(() => store.clear())
    const reads = async (sid: string): Promise<{ commands: string[], user: unknown, expires: unknown }> => {
      counted.commands.length = 0
      const session = await store.get(sid)
      return { commands: [...counted.commands], user: session?.user, expires: session?.cookie?.expires }
    }

    const now = clock
    await store.set('s', { cookie: cookie(HOUR, now), user: 'ada' })
    const expires = new Date(now + HOUR).toISOString()
    t.strictSame(await reads('s'), { commands: ['GETEX'], user: 'ada', expires }, 'written by this process, not read yet: GETEX alone')
    t.strictSame(await reads('s'), { commands: ['GETEX'], user: 'ada', expires }, 'read before, unchanged: GETEX alone')
    await store.touch('s', { cookie: cookie(2 * HOUR, now) })
    t.strictSame(await reads('s'), { commands: ['GETEX'], user: 'ada', expires: new Date(now + 2 * HOUR).toISOString() }, 'refreshed by this process: GETEX alone, the new expiry')

    await other.set('s', { cookie: cookie(3 * HOUR, now), user: 'bob' })
    t.strictSame(await reads('s'), { commands: ['GETEX'], user: 'bob', expires: new Date(now + 3 * HOUR).toISOString() }, 'written by another process: GETEX alone, its cookie\'s expiry ahead')
    t.strictSame((await reads('s')).commands, ['GETEX'])

    await other.touch('s', { cookie: cookie(4 * HOUR, now) })
    clock = now + 3 * HOUR + 1
    t.strictSame(await reads('s'), { commands: ['EVALSHA'], user: 'bob', expires: new Date(now + 4 * HOUR).toISOString() }, 'the expiry this process knew has passed: the script finds the one another process set')

    counted.commands.length = 0
    const [, during] = await Promise.all([store.set('s', { cookie: cookie(5 * HOUR, now), user: 'cy' }), store.get('s')])
    t.strictSame({ commands: counted.commands, user: during?.user }, { commands: ['SET', 'GETEX'], user: 'cy' }, 'read while a write of this process is under way: GETEX alone, answered after the write')

    clock = now
    await store.get('s')
    await other.set('s', { cookie: cookie(HOUR, now), user: 'dan' })
    await other.touch('s', { cookie: cookie(6 * HOUR, now) })
    clock = now + HOUR + 1
    t.strictSame(await reads('s'), { commands: ['GETEX', 'EVALSHA'], user: 'dan', expires: new Date(now + 6 * HOUR).toISOString() },
      'written and refreshed by another process, its cookie past: GETEX, then the script finds the later expiry')

    await other.destroy('s')
    t.strictSame(await reads('s'), { commands: ['GETEX'], user: undefined, expires: undefined }, 'gone: GETEX finds nothing')
    t.strictSame(await reads('s'), { commands: ['EVALSHA'], user: undefined, expires: undefined }, 'nothing known any more: the script')
  })

  test(`${library}: SCAN walks many keys with a small scanCount, one DEL per key, and only this prefix`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const counted = countingClient(await clientOf(t, library, redis.port))
    const base = uniquePrefix(`scan-${library}`)
    const prefix = `${base}a*[b]?:`
    const store = new RedisStore({ client: asClient(counted.client), prefix, scanCount: 7 })
    const neighbour = new RedisStore({ client: asClient(counted.client), prefix: `${base}ab]:` })
    t.teardown(() => neighbour.clear())
    const ids = Array.from({ length: 250 }, (_, i) => `id-${i}`)
    await Promise.all(ids.map((sid) => store.set(sid, { cookie: cookie(HOUR), n: sid })))
    await neighbour.set('other', { cookie: cookie(HOUR) })

    counted.commands.length = 0
    t.equal(await store.length(), 250)
    t.ok(counted.commands.length > 250 / 7 / 2 && counted.commands.every((c) => c === 'SCAN'), `several SCAN calls (${counted.commands.length})`)
    t.strictSame((await store.ids()).sort(), [...ids].sort())
    counted.commands.length = 0
    await store.clear()
    t.equal(counted.commands.filter((c) => c === 'DEL').length, 250, 'one DEL per key')
    t.equal(await store.length(), 0)
    t.strictSame(await neighbour.ids(), ['other'], 'the keys of another prefix stay')
  })

  test(`${library}: closeClient`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const kept = await clientOf(t, library, redis.port)
    await new RedisStore({ client: asClient(kept) }).close()
    const isOpen = (client: unknown, lib: Library): boolean => lib === 'ioredis'
      ? (client as { status: string }).status === 'ready'
      : (client as { isOpen: boolean }).isOpen
    t.ok(isOpen(kept, library), 'closeClient: false (default): the client stays open')
    const owned = await clientOf(t, library, redis.port)
    await new RedisStore({ client: asClient(owned), closeClient: true }).close()
    // ioredis: QUIT answered, the socket closes right after
    for (let i = 0; i < 100 && isOpen(owned, library); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    t.notOk(isOpen(owned, library), 'closeClient: true: closed with the store')
  })
}

test('closeClient with a client that cannot reach Redis still closes it', async (t) => {
  const port = await freePort()
  const ioredis = ioredisClient(t, port, { enableOfflineQueue: false, retryStrategy: () => null })
  await new Promise((resolve) => ioredis.once('end', resolve))
  await new RedisStore({ client: asClient(ioredis), closeClient: true }).close()
  t.equal(ioredis.status, 'end', 'ioredis: QUIT fails, the client is disconnected')
  const nodeRedis = await nodeRedisClient(t, port, false)
  await new RedisStore({ client: asClient(nodeRedis), closeClient: true }).close()
  t.equal(nodeRedis.isOpen, false, 'node-redis: never opened, nothing to close')
})

test('a node-redis cluster that lost its connection fails fast', async (t) => {
  const sent: string[][] = []
  const cluster = {
    isOpen: true,
    isReady: false,
    masters: [],
    nodeClient: async () => ({ sendCommand: async () => ['0', []] }),
    sendCommand: async (_key: string | undefined, _readonly: boolean | undefined, args: string[]) => { sent.push(args) },
    multi: () => { throw new Error('not reached') },
    close: async () => {}
  }
  const store = new RedisStore({ client: cluster })
  t.equal(store.library, 'node-redis')
  t.match(await store.get('s').catch((e: Error) => e), { code: 'FST_FLEET_SESSION_BACKEND', message: /Redis is unreachable: the node-redis cluster is reconnecting/ })
  t.match(await store.length().catch((e: Error) => e), { code: 'FST_FLEET_SESSION_BACKEND' })
  t.strictSame(sent, [], 'nothing sent')
})

test('a node-redis sentinel client that lost its connection fails fast', async (t) => {
  const sentinel = {
    isOpen: true,
    isReady: false,
    getMasterNode: () => undefined,
    sendCommand: async () => { throw new Error('not reached') },
    multi: () => { throw new Error('not reached') },
    close: async () => {}
  }
  const store = new RedisStore({ client: sentinel })
  t.match(await store.destroy('s').catch((e: Error) => e), { code: 'FST_FLEET_SESSION_BACKEND', message: /Redis is unreachable: the node-redis sentinel client is reconnecting/ })
})
