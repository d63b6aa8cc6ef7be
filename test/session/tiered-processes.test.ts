// Two app instances in two processes (test/session/fixtures/tiered-app.ts) sharing sessions in
// Redis through TieredStore, as two hosts behind a balancer: a change on A, then reads on B until
// B shows it (the stale window, measured); a logout on A seen by B's very next request; and,
// without invalidation, the stale window bounded by near.ttl.
import { fileURLToPath } from 'node:url'
import t, { test, type Test } from 'tap'
import { httpRequestPlain } from '../helpers/clients.js'
import { msg, startFixture } from '../helpers/fixture-process.js'
import { uniquePrefix } from '../helpers/redis-clients.js'
import { requireService } from '../helpers/services.js'

t.setTimeout(300_000)

const FIXTURE = fileURLToPath(new URL('./fixtures/tiered-app.ts', import.meta.url))
const CHANGES = 30

/** Starts the two hosts; resolves with their origins. */
async function hosts (t: Test, env: Record<string, string>): Promise<[string, string] | null> {
  const redis = await requireService(t, 'redis')
  if (redis === null) return null
  const common = { REDIS_URL: redis.url, PREFIX: uniquePrefix('tiered-processes'), ...env }
  const started = [startFixture(t, FIXTURE, common), startFixture(t, FIXTURE, common)]
  const origins: string[] = []
  for (const host of started) {
    const line = await host.waitFor(msg('fixture: listening'), 'the host listening', 60_000)
    origins.push(`http://127.0.0.1:${line.port as number}`)
  }
  return origins as [string, string]
}

async function login (origin: string): Promise<string> {
  const res = await httpRequestPlain(origin, '/login', { method: 'POST' })
  return String(res.headers['set-cookie']).split(';')[0] as string
}

const views = async (origin: string, cookie: string): Promise<number | null> => {
  const res = await httpRequestPlain(origin, '/me', { headers: { cookie } })
  return res.status === 200 ? JSON.parse(res.body).views : null
}

/** `CHANGES` changes on A, each followed by reads on B until B shows it: how long each took, in ms. */
async function staleWindows (t: Test, [a, b]: [string, string]): Promise<number[]> {
  const cookie = await login(a)
  t.equal(await views(b, cookie), 0, 'B reads the session A wrote')
  const windows: number[] = []
  for (let i = 1; i <= CHANGES; i++) {
    const res = await httpRequestPlain(a, '/views', { method: 'POST', headers: { cookie } })
    t.equal(JSON.parse(res.body).views, i)
    const changed = performance.now()
    while (await views(b, cookie) !== i) {
      if (performance.now() - changed > 10_000) throw new Error(`B never showed change ${i}`)
    }
    windows.push(performance.now() - changed)
  }
  return windows.sort((x, y) => x - y)
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number

test('a change on A is seen on B once its message arrives, though B\'s copy would live a minute; a logout on A at once', async (t) => {
  const origins = await hosts(t, { NEAR_TTL: '60', NEAR_MAX_AGE: '600' })
  if (origins === null) return
  const [a, b] = origins
  const windows = await staleWindows(t, origins)
  const p50 = percentile(windows, 0.5)
  const max = windows.at(-1) as number
  t.comment(`stale window over ${CHANGES} changes: p50 ${p50.toFixed(2)} ms, max ${max.toFixed(2)} ms (each includes one read of B)`)
  t.ok(max < 1000, `every change seen within a second, far below near.ttl (60 s): max ${max.toFixed(1)} ms`)
  t.ok(JSON.parse((await httpRequestPlain(b, '/stats')).body).near.invalidations >= CHANGES, 'B heard every change')

  for (let i = 0; i < 5; i++) {
    const cookie = await login(a)
    t.equal(await views(b, cookie), 0, 'B has a copy of the session')
    t.equal(await views(b, cookie), 0)
    const out = await httpRequestPlain(a, '/logout', { method: 'POST', headers: { cookie } })
    t.equal(out.status, 204, 'logged out on A')
    t.equal(await views(b, cookie), null, 'B\'s very next request sees the logout')
  }
  t.equal(JSON.parse((await httpRequestPlain(b, '/stats')).body).near.hits, 5, 'B served the second read of each session from its copy')
})

test('without invalidation, a change on A is seen on B within near.ttl', async (t) => {
  const ttl = 0.3
  const origins = await hosts(t, { NEAR_TTL: String(ttl), NEAR_MAX_AGE: String(ttl), INVALIDATION: 'false' })
  if (origins === null) return
  const windows = await staleWindows(t, origins)
  const max = windows.at(-1) as number
  t.comment(`stale window over ${CHANGES} changes: p50 ${percentile(windows, 0.5).toFixed(1)} ms, max ${max.toFixed(1)} ms`)
  t.ok(max < ttl * 1000 + 1000, `every change seen within near.ttl (${ttl * 1000} ms) and a margin: max ${max.toFixed(1)} ms`)
})
