// encryptedSerializer on every store, against the real servers: the backend holds no plaintext (read
// raw: Redis GET, SQL SELECT, Memcached get, the memory backend's read), a fresh store reads the
// session back, and a record altered by one character in the backend reads as no session.
import { randomBytes } from 'node:crypto'
import { test, type Test } from 'tap'
import {
  BackendStore, encryptedSerializer, MemcachedStore, MySqlStore, PostgresStore, RedisStore, TieredStore,
  type RedisClientLike, type SessionStore, type StoreLogger
} from '../../plugins/session/index.js'
import { MemoryBackend } from '../../plugins/session/stores/memory.js'
import { memjsClient, uniqueMemcachedPrefix } from '../helpers/memcached-server.js'
import { clientOf, ioredisClient, LIBRARIES, uniquePrefix } from '../helpers/redis-clients.js'
import { requireService } from '../helpers/services.js'
import { dropTables, mysqlPool, pgPool, uniqueTable } from '../helpers/sql.js'

const HOUR = 3_600_000
const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] })

/** The raw record of a session in the backend, and a way to put another text in its place. */
interface Raw {
  read: (sid: string) => Promise<string | null>
  replace: (sid: string, text: string) => Promise<void>
}

/** What one store needs for the check: a store over the backend (a new one on each call), and raw access. */
interface Subject {
  store: (logger: StoreLogger) => SessionStore & { close: () => Promise<void> }
  raw: Raw
  /** A near cache: copies already held are served until `near.ttl` (a change made in the backend itself is not published). */
  near?: boolean
}

/** Flips the first character of the ciphertext (a full 6 bits of it) of a record. */
function tamper (text: string): string {
  const at = text.lastIndexOf('.') + 1
  return text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
}

async function check (t: Test, subject: Subject): Promise<void> {
  const warned: string[] = []
  const logger: StoreLogger = { warn: (obj) => { warned.push((obj as { err: { code: string } }).err.code) }, error: () => {} }
  const sid = `enc-${randomBytes(6).toString('hex')}`
  const marker = `marker-${randomBytes(6).toString('hex')}`
  const writer = subject.store(logger)
  const cookie = { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR), secure: true, httpOnly: true, path: '/' }
  await writer.set(sid, { cookie, user: marker, views: 1 })

  const raw = await subject.raw.read(sid)
  t.type(raw, 'string', 'the backend holds a record')
  t.match(raw, /^"v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+"$/, 'the encrypted record')
  for (const plain of [marker, 'user', 'views', 'cookie', 'expires', 'httpOnly']) t.notOk((raw as string).includes(plain), `no "${plain}" in the backend`)

  const reader = subject.store(logger)
  t.strictSame(await reader.get(sid).then((s) => [s?.user, s?.views, s?.cookie?.originalMaxAge]), [marker, 1, HOUR], 'a fresh store reads it back')

  await subject.raw.replace(sid, tamper(raw as string))
  const later = subject.store(logger)
  t.equal(await later.get(sid), null, 'altered in the backend: a store reads no session')
  if (subject.near !== true) {
    t.equal(await writer.get(sid), null, 'the writer too')
    t.equal(await reader.get(sid), null, 'and the store that read it before')
  }
  t.strictSame(warned, Array(subject.near === true ? 1 : 3).fill('FST_FLEET_SESSION_CORRUPT'), 'each read logged')
  await Promise.all([writer.close(), reader.close(), later.close()])
}

test('memory backend (MemoryStore\'s, through the backend interface)', async (t) => {
  const backend = new MemoryBackend({ maxEntries: 100 }, Date.now)
  await check(t, {
    store: (logger) => new BackendStore(backend, { serializer, logger }),
    raw: {
      read: async (sid) => backend.read(sid)?.text ?? null,
      replace: async (sid, text) => { backend.write(sid, text, backend.read(sid)?.expiresAt as number) }
    }
  })
})

for (const library of LIBRARIES) {
  test(`RedisStore on ${library}, and TieredStore over it`, async (t) => {
    const redis = await requireService(t, 'redis')
    if (redis === null) return
    const client = await clientOf(t, library, redis.port) as unknown as RedisClientLike
    const direct = ioredisClient(t, redis.port)
    const prefix = uniquePrefix(`encrypted-${library}`)
    t.teardown(() => new RedisStore({ client, prefix }).clear())
    const raw: Raw = {
      read: async (sid) => await direct.get(prefix + sid),
      replace: async (sid, text) => { await direct.set(prefix + sid, text, 'KEEPTTL') }
    }
    await t.test('RedisStore', async (t) => {
      await check(t, { store: (logger) => new RedisStore({ client, prefix, serializer, logger }), raw })
    })
    await t.test('TieredStore over RedisStore', async (t) => {
      await check(t, {
        store: (logger) => new TieredStore({ store: new RedisStore({ client, prefix, serializer, logger }), invalidation: false, closeStore: true }),
        raw,
        near: true
      })
    })
  })
}

test('PostgresStore', async (t) => {
  const postgres = await requireService(t, 'postgres')
  if (postgres === null) return
  const pool = pgPool(t, postgres.url)
  const tableName = uniqueTable('encrypted')
  dropTables(t, (sql) => pool.query(sql), [tableName], '"')
  await check(t, {
    store: (logger) => new PostgresStore({ pool, tableName, createTable: true, pruneInterval: false, serializer, logger }),
    raw: {
      read: async (sid) => (await pool.query(`SELECT sess::text AS text FROM "${tableName}" WHERE sid = $1`, [sid])).rows[0]?.text ?? null,
      replace: async (sid, text) => { await pool.query(`UPDATE "${tableName}" SET sess = $1 WHERE sid = $2`, [text, sid]) }
    }
  })
})

test('MySqlStore', async (t) => {
  const mysql = await requireService(t, 'mysql')
  if (mysql === null) return
  const pool = mysqlPool(t, mysql.url)
  const tableName = uniqueTable('encrypted')
  dropTables(t, (sql) => pool.query(sql), [tableName], '`')
  await check(t, {
    store: (logger) => new MySqlStore({ pool, tableName, createTable: true, pruneInterval: false, serializer, logger }),
    raw: {
      read: async (sid) => {
        const [rows] = await pool.query(`SELECT data FROM \`${tableName}\` WHERE session_id = ?`, [sid])
        return (rows as Array<{ data: string }>)[0]?.data ?? null
      },
      replace: async (sid, text) => { await pool.query(`UPDATE \`${tableName}\` SET data = ? WHERE session_id = ?`, [text, sid]) }
    }
  })
})

test('MemcachedStore', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const prefix = uniqueMemcachedPrefix('encrypted')
  const direct = memjsClient(t, servers)
  await check(t, {
    store: (logger) => new MemcachedStore({ servers, prefix, serializer, logger }),
    raw: {
      read: async (sid) => (await direct.get(prefix + sid)).value?.toString() ?? null,
      replace: async (sid, text) => { await direct.set(prefix + sid, text, { expires: 3600 }) }
    }
  })
})
