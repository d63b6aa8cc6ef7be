// The stale window of TieredStore's invalidation, measured apart from the scenarios (no HTTP): two
// tiered stores in this process, each on its own connections (two hosts as far as the servers can
// tell), their copies kept a minute (only a message makes B read again). Each of `STALE_CHANGES`
// rounds: B reads the session (a copy), A changes it; the window is from A's `set` resolving to B
// dropping its copy (negative: B heard before A's set resolved: the message is published once the
// write landed, before set resolves). On Redis pub/sub (a throwaway redis-server) and on PostgreSQL
// LISTEN/NOTIFY (the shared server at DATABASE_URL, a table of its own, dropped after), when it
// answers. `npm run bench` runs it after the scenarios (`stale-section.ts`: the child sends its result
// over IPC); by hand, `npm run build && node dist/bench/tiered/stale-window.js` prints the section.
import { Redis } from 'ioredis'
import pg from 'pg'
import { PostgresStore, RedisStore, type BackendStore, type RedisClientLike } from 'fastify-fleet/session'
import { TieredStore, type InvalidationChannel } from 'fastify-fleet/session'
import { startRedisServer } from '../lib/redis-server.js'
import { sqlUrl } from '../lib/sql-server.js'
import { staleSection, staleSeries, type StaleResultMessage, type StaleSeries } from './stale-section.js'

const CHANGES = Number(process.env.STALE_CHANGES ?? 1000)

/** `store` whose channel reports each id it hears to `heard`. */
function observed (store: BackendStore & { invalidationChannel: () => InvalidationChannel }, heard: (sid: string | null) => void): BackendStore {
  const open = store.invalidationChannel.bind(store)
  store.invalidationChannel = () => {
    const channel = open()
    return { ...channel, subscribe: (onInvalidate, onListening) => { channel.subscribe((sid) => { onInvalidate(sid); heard(sid) }, onListening) } }
  }
  return store
}

/** The windows, in ms, of `CHANGES` changes made on A and heard on B. */
async function measure (a: TieredStore, b: TieredStore, waitFor: (sid: string) => Promise<number>): Promise<number[]> {
  const windows: number[] = []
  const cookie = { expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 }
  for (let i = 0; i < CHANGES; i++) {
    const sid = `stale-window-${i % 10}`
    const heard = waitFor(sid)
    await a.set(sid, { cookie, views: i })
    const resolved = performance.now()
    const at = await heard
    windows.push(at - resolved)
    await b.get(sid)
  }
  return windows
}

/** Waiters by session id, resolved with the time the id was heard. */
function hearing (): { heard: (sid: string | null) => void, waitFor: (sid: string) => Promise<number> } {
  const waiting = new Map<string, (at: number) => void>()
  return {
    heard: (sid) => {
      const at = performance.now()
      if (sid !== null) waiting.get(sid)?.(at)
      if (sid !== null) waiting.delete(sid)
    },
    waitFor: (sid) => new Promise((resolve) => { waiting.set(sid, resolve) })
  }
}

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

async function pair (inner: (heard: (sid: string | null) => void) => [BackendStore, BackendStore]): Promise<{ a: TieredStore, b: TieredStore, waitFor: (sid: string) => Promise<number> }> {
  const { heard, waitFor } = hearing()
  const [innerA, innerB] = inner(heard)
  const near = { ttl: 60, maxAge: 600 }
  const a = new TieredStore({ store: innerA, near, closeStore: true })
  const b = new TieredStore({ store: innerB, near, closeStore: true })
  await until(() => a.stats().near.listening === true && b.stats().near.listening === true)
  return { a, b, waitFor }
}

const series: StaleSeries[] = []
const redis = await startRedisServer()
try {
  const clients = [new Redis(redis.url), new Redis(redis.url)]
  for (const client of clients) client.on('error', () => {})
  const { a, b, waitFor } = await pair((heard) => [
    new RedisStore({ client: clients[0] as unknown as RedisClientLike }),
    observed(new RedisStore({ client: clients[1] as unknown as RedisClientLike }), heard)
  ])
  series.push(staleSeries('Redis pub/sub (ioredis)', await measure(a, b, waitFor)))
  await a.close()
  await b.close()
  for (const client of clients) client.disconnect()
} finally {
  await redis.stop()
}

const url = sqlUrl('postgres')
const admin = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3000 })
admin.on('error', () => {})
const table = `bench_stale_window_${process.pid}`
try {
  await admin.query('SELECT 1')
  const pools = [new pg.Pool({ connectionString: url, max: 4 }), new pg.Pool({ connectionString: url, max: 4 })]
  const { a, b, waitFor } = await pair((heard) => [
    new PostgresStore({ pool: pools[0] as pg.Pool, tableName: table, createTable: true, pruneInterval: false }),
    observed(new PostgresStore({ pool: pools[1] as pg.Pool, tableName: table, createTable: true, pruneInterval: false }), heard)
  ])
  series.push(staleSeries('PostgreSQL LISTEN/NOTIFY (pg)', await measure(a, b, waitFor)))
  await a.close()
  await b.close()
  for (const pool of pools) await pool.end()
} catch (err) {
  series.push({ channel: 'PostgreSQL LISTEN/NOTIFY (pg)', error: (err as Error).message })
} finally {
  await admin.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
  await admin.end()
}

if (process.send !== undefined) {
  process.send({ type: 'stale-window-result', series } satisfies StaleResultMessage)
  process.disconnect()
} else {
  process.stdout.write(`${staleSection({ result: series })}\n`)
}
