// A destroyed session's cookie is refused everywhere: on every store, two apps with stores of their
// own over one backend (two processes, two machines) both know the session; after a logout in one,
// the cookie replayed to either reads no session, with and without encryption at rest. ClusterStore
// across real workers: security-cluster.test.ts.
import { randomBytes } from 'node:crypto'
import { test, type Test } from 'tap'
import {
  BackendStore, encryptedSerializer, MemcachedStore, MySqlStore, PostgresStore, RedisStore, TieredStore,
  type RedisClientLike, type Serializer, type SessionStore
} from '../../plugins/session/index.js'
import { MemoryBackend } from '../../plugins/session/stores/memory.js'
import { eventually } from '../helpers/eventually.js'
import { uniqueMemcachedPrefix } from '../helpers/memcached-server.js'
import { clientOf, uniquePrefix } from '../helpers/redis-clients.js'
import { requireService } from '../helpers/services.js'
import { cookiePair, sessionApp, sessionIdOf, setCookieOf } from '../helpers/session-app.js'
import { dropTables, mysqlPool, pgPool, uniqueTable } from '../helpers/sql.js'

const SECRET = 'a-test-secret-that-is-long-enough-to-sign'
const SERIALIZERS: Array<[string, Serializer | undefined]> = [
  ['JSON', undefined],
  ['encrypted', encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] })]
]

/** Waits for what the stores do by themselves: `ready` before the login, `settled` after the logout (`loggingOut` just before it). */
interface Waits {
  ready?: () => Promise<void>
  loggingOut?: () => void
  settled?: () => Promise<void>
}

/** Two apps over stores made by `store` (a new one per call): log in with one, out with it, replay the cookie to both. */
async function replay (t: Test, store: () => SessionStore, { ready, loggingOut, settled }: Waits = {}): Promise<void> {
  const first = await sessionApp(t, { secret: SECRET, store: store() })
  const second = await sessionApp(t, { secret: SECRET, store: store() })
  await ready?.()
  const login = await first.inject({ method: 'POST', url: '/login' })
  const cookie = cookiePair(setCookieOf(login))
  for (const app of [first, second]) t.strictSame((await app.inject({ url: '/me', headers: { cookie } })).json(), { user: 'ada' }, 'both know the session')
  loggingOut?.()
  const logout = await first.inject({ method: 'POST', url: '/logout', headers: { cookie } })
  t.equal(logout.statusCode, 204)
  await settled?.()
  for (const [name, app] of [['the app that logged out', first], ['the other app', second]] as const) {
    for (const url of ['/me', '/whoami']) t.equal((await app.inject({ url, headers: { cookie } })).statusCode, 401, `${name}: ${url} with the replayed cookie`)
  }
  t.equal(await store().get(sessionIdOf(cookie)), null, 'the store holds nothing under the id')
}

for (const [label, serializer] of SERIALIZERS) {
  const options = { ...(serializer === undefined ? {} : { serializer }), logger: false as const }

  test(`${label}: memory backend`, async (t) => {
    const backend = new MemoryBackend({ maxEntries: 100 }, Date.now)
    await replay(t, () => new BackendStore(backend, options))
  })

  test(`${label}: RedisStore, and TieredStore over it with Redis's invalidation channel`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const client = await clientOf(t, 'ioredis', redis.port) as unknown as RedisClientLike
    const prefix = uniquePrefix(`replay-${label}`)
    const closing: Array<{ close: () => Promise<void> }> = []
    t.teardown(async () => {
      for (const store of closing) await store.close()
      await new RedisStore({ client, prefix }).clear()
    })
    await t.test('RedisStore', async (t) => { await replay(t, () => new RedisStore({ client, prefix, ...options })) })
    await t.test('TieredStore', async (t) => {
      const tiered: TieredStore[] = []
      const make = (): TieredStore => {
        const store = new TieredStore({ store: new RedisStore({ client, prefix, ...options }), near: { ttl: 60 } })
        tiered.push(store)
        closing.push(store)
        return store
      }
      const waitFor = async (what: string, done: () => boolean): Promise<void> => {
        await eventually(async () => { if (!done()) throw new Error(what) }, 5000)
      }
      let heard = 0
      await replay(t, make, {
        ready: async () => { await waitFor('not listening yet', () => tiered.slice(0, 2).every((s) => s.stats().near.listening === true)) },
        // the other app's near copy is dropped when the invalidation reaches it (until then, well
        // under a millisecond on one machine, it would still serve its copy: see the docs)
        loggingOut: () => { heard = (tiered[1] as TieredStore).stats().near.invalidations },
        settled: async () => { await waitFor('not heard yet', () => (tiered[1] as TieredStore).stats().near.invalidations > heard) }
      })
    })
  })

  test(`${label}: PostgresStore`, async (t) => {
    const postgres = await requireService(t, 'postgres')
    if (postgres === null) return
    const pool = pgPool(t, postgres.url)
    const tableName = uniqueTable('replay')
    dropTables(t, (sql) => pool.query(sql), [tableName], '"')
    await replay(t, () => new PostgresStore({ pool, tableName, createTable: true, pruneInterval: false, ...options }))
  })

  test(`${label}: MySqlStore`, async (t) => {
    const mysql = await requireService(t, 'mysql')
    if (mysql === null) return
    const pool = mysqlPool(t, mysql.url)
    const tableName = uniqueTable('replay')
    dropTables(t, (sql) => pool.query(sql), [tableName], '`')
    await replay(t, () => new MySqlStore({ pool, tableName, createTable: true, pruneInterval: false, ...options }))
  })

  test(`${label}: MemcachedStore`, async (t) => {
    const memcached = await requireService(t, 'memcached')
    if (memcached === null) return
    const servers = `${memcached.host}:${memcached.port}`
    const prefix = uniqueMemcachedPrefix(`replay-${label}`)
    const stores: MemcachedStore[] = []
    t.teardown(async () => { for (const store of stores) await store.close() })
    await replay(t, () => {
      const store = new MemcachedStore({ servers, prefix, ...options })
      stores.push(store)
      return store
    })
  })
}
