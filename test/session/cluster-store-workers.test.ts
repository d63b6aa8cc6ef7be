// ClusterStore in real cluster workers: what the conformance suite does not cover, and sessions that
// outlive the worker that wrote them (test/session/fixtures/cluster-sessions.ts).
import t, { test } from 'tap'
import { startSessions, stopSessions, type Worker } from '../helpers/cluster-sessions.js'
import { httpRequestPlain } from '../helpers/clients.js'
import { msg, type LogLine } from '../helpers/fixture-process.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

test('a store call to a busy primary fails with FST_FLEET_SESSION_TIMEOUT within its timeout; maxBytes, the longest timeout, touch after expiry', async (t) => {
  const { cluster, workers } = await startSessions(t)
  cluster.command({ cmd: 'checks', to: workers[0].id })
  const checks = await cluster.waitFor(msg('fixture: checks'), 'the checks', 60_000)
  t.equal(checks.mode, 'primary')
  t.strictSame(checks.timedOut, { code: 'FST_FLEET_SESSION_TIMEOUT', message: 'fastify-fleet/session: get did not answer within 200 ms' })
  t.ok(checks.took >= 199 && checks.took < 1000, `after 200 ms, within a second (took ${String(checks.took)} ms)`)
  t.strictSame(checks.afterwards, { value: { user: 'ada' } }, 'the same store works once the primary is free')
  // "big" and {"p":"x…x"} with 60 x: 3 + 68 characters
  t.strictSame(checks.tooLarge, { code: 'FST_FLEET_SESSION_TOO_LARGE', message: 'fastify-fleet/session: the serialized session takes 71 bytes, more than maxBytes (50)' })
  t.strictSame(checks.fits, { value: { p: 'x'.repeat(30) } })
  t.strictSame(checks.longest, { value: { user: 'bob' } }, 'timeout: 2147483647 works (the bus timeout stays within what setTimeout takes)')
  t.strictSame(checks.touchedAfterExpiry, { value: null }, 'touch does not bring back a session that has expired')
  t.strictSame(checks.heard, ['from the primary'], 'busChannel in a worker: what it publishes reaches the others, not itself')
  await stopSessions(t, cluster)
})

test('sessions live in the primary: they survive the SIGKILL of the worker that wrote them', async (t) => {
  const { cluster, workers, origin } = await startSessions(t)
  const pids = new Map(workers.map((w) => [w.pid, w.id]))
  const login = await httpRequestPlain(origin, '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada' }) })
  t.equal(login.status, 200)
  const writer = JSON.parse(login.body) as { workerId: number, pid: number }
  t.equal(pids.get(writer.pid), writer.workerId)
  const cookie = String(login.headers['set-cookie']).split(';')[0] as string
  t.match(cookie, /^sessionId=/)
  const me = async (): Promise<LogLine> => {
    const res = await httpRequestPlain(origin, '/me', { headers: { cookie } })
    t.equal(res.status, 200, '/me: 200')
    return JSON.parse(res.body)
  }
  const first = await me()
  t.strictSame({ user: first.user, views: first.views }, { user: 'ada', views: 1 })

  process.kill(writer.pid, 'SIGKILL')
  const died = await cluster.waitFor((l) => l.msg === 'fixture: worker exit' && l.worker.id === writer.workerId, 'the death of the writer')
  t.strictSame([died.worker.signal, died.worker.expected], ['SIGKILL', false])
  const survivor = workers.find((w) => w.id !== writer.workerId) as Worker
  t.strictSame(await me(), { user: 'ada', views: 2, workerId: survivor.id, pid: survivor.pid }, 'the other worker reads and updates it')

  const replacement = (await cluster.waitForCount(msg('fixture: ready'), 3, 'the replacement', 60_000))[2]?.worker as Worker
  cluster.alsoKill(replacement.pid)
  // connections go round-robin: within a few, one reaches the new worker
  const seen: LogLine[] = []
  for (let i = 0; i < 6 && !seen.some((r) => r.pid === replacement.pid); i++) seen.push(await me())
  t.strictSame(seen.map((r) => r.views), seen.map((_, i) => 3 + i), 'each view counted once, whichever worker served it')
  t.ok(seen.some((r) => r.pid === replacement.pid && r.user === 'ada'), 'the replacement reads the session too')
  const stranger = await httpRequestPlain(origin, '/me', { headers: { cookie: 'sessionId=unknown' } })
  t.equal(stranger.status, 401, 'an unknown session is no session')
  await stopSessions(t, cluster)
})
