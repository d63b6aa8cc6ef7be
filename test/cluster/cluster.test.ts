// startCluster() with real processes: a primary forks TypeScript workers serving HTTP/2 + TLS with
// an HTTP/1.1 fallback and sessions in ClusterStore (fixtures/cluster-app.ts).
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { h1Request, h2Request, type ClientResponse } from '../helpers/clients.js'
import { freePort } from '../helpers/ports.js'
import { msg, startFixture, type FixtureProcess, type LogLine } from '../helpers/fixture-process.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'

const APP = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url))
const READY = 60_000
let tls: KeyPair
t.before(async () => { tls = await selfSignedPair() })
// real processes under load start slowly: more than tap's default two minutes for the file
t.setTimeout(600_000)

interface Cluster extends FixtureProcess {
  origin: string
  port: number
  primaryPid: number
}

async function startApp (tt: Parameters<typeof startFixture>[0], env: Record<string, string> = {}, workers = 2): Promise<Cluster> {
  const port = await freePort()
  const app = startFixture(tt, APP, { TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(port), WORKERS: String(workers), READY_TIMEOUT: '45000', ...env })
  await app.waitForCount(msg('worker ready'), workers, `${workers} workers ready`, READY)
  return { ...app, origin: `https://127.0.0.1:${port}`, port, primaryPid: app.child.pid as number }
}

const json = (res: ClientResponse): Record<string, unknown> => JSON.parse(res.body)
const cookieOf = (res: ClientResponse): string => String([res.headers['set-cookie']].flat()[0]).split(';')[0] as string
const readyPids = (app: FixtureProcess): number[] => app.lines.filter(msg('worker ready')).map((l) => l.workerPid as number)
const alive = (app: FixtureProcess): Set<number> => {
  const gone = new Set(app.lines.filter((l) => l.msg === 'worker died' || l.msg === 'worker stopped').map((l) => l.workerPid as number))
  return new Set(readyPids(app).filter((pid) => !gone.has(pid)))
}

/** GET /me over new connections until `pid` answers (round-robin gives each worker its turn). */
async function meFrom (app: Cluster, cookie: string, pids: Set<number>): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = []
  for (let i = 0; i < 20; i++) {
    const body = json(await (i % 2 === 0 ? h2Request : h1Request)(app.origin, '/me', { headers: { cookie } }))
    seen.push(body)
    if ([...pids].every((pid) => seen.some((b) => b.pid === pid))) break
  }
  return seen
}

test('a session made on one worker is known to all; kill -9 and a blocked event loop get the worker replaced, sessions intact; SIGTERM drains', async (t) => {
  const app = await startApp(t, { HEARTBEAT_INTERVAL: '200', HEARTBEAT_TIMEOUT: '2000' })
  const login = await h1Request(app.origin, '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' })
  t.equal(login.status, 200)
  const cookie = cookieOf(login)

  const first = await meFrom(app, cookie, alive(app))
  t.strictSame(new Set(first.map((b) => b.pid)), alive(app), 'both workers answered')
  t.strictSame(first.map((b) => b.views), first.map((_, i) => i + 1), 'views count up across workers: one session, kept by the primary')
  t.ok(first.every((b) => b.user === 'ada'))

  // kill -9 one worker: a replacement is forked within a second; the session is intact
  const [victim, survivor] = [...alive(app)] as [number, number]
  const killedAt = Date.now()
  process.kill(victim, 'SIGKILL')
  const died = await app.waitFor((l) => l.msg === 'worker died' && l.workerPid === victim, 'the death')
  t.equal(died.signal, 'SIGKILL')
  const forked = await app.waitFor((l) => l.msg === 'worker forked' && l.slot === died.slot && (l.time as number) >= killedAt, 'the replacement')
  t.ok((forked.time as number) - killedAt < 1000, `replacement forked ${(forked.time as number) - killedAt} ms after the kill`)
  const replacement = (await app.waitFor((l) => l.msg === 'worker ready' && l.worker === forked.worker, 'the replacement ready', READY)).workerPid as number
  const after = await meFrom(app, cookie, new Set([survivor, replacement]))
  t.ok(after.some((b) => b.pid === replacement), 'the replacement serves')
  t.strictSame(after.map((b) => b.views), after.map((_, i) => first.length + i + 1), 'the session went on counting')

  // a worker whose event loop is blocked misses its heartbeats: killed and replaced
  let blocked: number | undefined
  for (let i = 0; i < 10 && blocked === undefined; i++) {
    const res = json(await h1Request(app.origin, '/block', { method: 'POST' }))
    blocked = res.pid as number
  }
  const unresponsive = await app.waitFor((l) => l.msg === 'worker unresponsive, killing it' && l.workerPid === blocked, 'the heartbeat kill', 15_000)
  t.ok((unresponsive.silentFor as number) > 2000, 'silent past heartbeatTimeout')
  await app.waitFor((l) => l.msg === 'worker died' && l.workerPid === blocked && l.signal === 'SIGKILL', 'the kill')
  await app.waitForCount(msg('worker ready'), 4, 'its replacement', READY)

  // SIGTERM while slow requests are in flight over HTTP/2 and HTTP/1.1: both complete, exit 0
  const slowH2 = h2Request(app.origin, '/slow?ms=1500')
  const slowH1 = h1Request(app.origin, '/slow?ms=1500')
  await new Promise((resolve) => setTimeout(resolve, 700))
  const stoppedAt = Date.now()
  app.child.kill('SIGTERM')
  const [h2, h1] = await Promise.all([slowH2, slowH1])
  t.equal(h2.status, 200)
  t.equal(json(h2).slept, 1500)
  t.equal(h1.status, 200)
  t.equal(json(h1).slept, 1500)
  t.strictSame(await app.exit, 0, 'the primary exits 0')
  t.ok(Date.now() - stoppedAt < 10_000, 'within shutdownTimeout')
  t.strictSame(app.lines.filter(msg('worker stopped')).length, 2, 'both workers stopped')
  t.equal(app.lines.filter(msg('worker died')).length, 2, 'no worker died during the stop')
})

test('a crash loop stops the primary with one clear error line and exit code 1', async (t) => {
  const port = await freePort()
  const app = startFixture(t, APP, {
    TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(port), WORKERS: '2', FIXTURE_FAIL_BUILD: 'mixed', MAX_RESTARTS: '4', MIN_UPTIME: '60000', READY_TIMEOUT: '60000'
  })
  const result = await app.exit
  t.strictSame(result, 1)
  const loops = app.lines.filter((l: LogLine) => l.code === 'FST_FLEET_CLUSTER_CRASH_LOOP')
  t.equal(loops.length, 1, 'one crash-loop line')
  t.match(loops[0]?.msg, /^fastify-fleet\/cluster: crash loop: 4 workers in a row exited less than 60000 ms after they started \(restart.minUptime\); stopping/)
  t.equal(loops[0]?.level, 50)
  t.ok(app.lines.filter(msg('worker died')).length >= 4)
  t.ok(app.lines.some((l) => l.msg === 'worker failed to start' && l.err === 'build failed on purpose'), 'the worker says why')
  t.ok(app.lines.some((l) => l.msg === 'worker failed to start' && l.err === 'a string thrown on purpose'), 'whatever it threw')
  for (const what of ['null', 'object']) {
    t.ok(app.lines.some((l) => l.msg === 'worker failed to start' && l.code === 'FST_FLEET_CLUSTER_INVALID_APP' &&
      l.err === `fastify-fleet/cluster: build() must return (or resolve to) a Fastify instance, got ${what}`), `build() gave ${what}`)
  }
})

test('execArgv: every worker, a replacement too, runs with the extra flags after the primary\'s own; a flag Node.js refuses is a crash loop', async (t) => {
  const app = await startApp(t, { EXEC_ARGV: '["--stack-trace-limit=7"]' })
  const flagsOf = async (pids: Set<number>): Promise<Array<Record<string, unknown>>> => {
    const seen = new Map<unknown, Record<string, unknown>>()
    for (let i = 0; i < 20 && ![...pids].every((pid) => seen.has(pid)); i++) {
      const body = json(await (i % 2 === 0 ? h2Request : h1Request)(app.origin, '/flags'))
      seen.set(body.pid, body)
    }
    return [...seen.values()]
  }
  const first = await flagsOf(alive(app))
  t.strictSame(new Set(first.map((b) => b.pid)), alive(app), 'both workers answered')
  for (const body of first) {
    t.equal(body.stackTraceLimit, 7, 'V8 took the flag')
    t.strictSame((body.execArgv as string[]).slice(-1), ['--stack-trace-limit=7'], 'after the primary\'s own flags')
  }
  const victim = first[0]?.pid as number
  process.kill(victim, 'SIGKILL')
  await app.waitForCount(msg('worker ready'), 3, 'the replacement ready', READY)
  const replacement = (await flagsOf(alive(app))).find((b) => b.pid !== victim && !first.some((f) => f.pid === b.pid))
  t.equal(replacement?.stackTraceLimit, 7, 'the replacement has the flag too')

  const bad = startFixture(t, APP, {
    TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(await freePort()), WORKERS: '2', EXEC_ARGV: '["--no-such-flag-at-all"]', MAX_RESTARTS: '2', MIN_UPTIME: '60000'
  })
  t.strictSame(await bad.exit, 1, 'no worker can start: a crash loop ends it')
  t.ok(bad.lines.some((l) => l.code === 'FST_FLEET_CLUSTER_CRASH_LOOP'), 'the crash-loop line')
  t.ok(bad.lines.filter((l) => l.msg === 'worker died' && l.code === 9).length >= 2, 'Node.js refused the flag (exit code 9)')
})

test('a worker not ready within readyTimeout is killed and replaced', async (t) => {
  const port = await freePort()
  const app = startFixture(t, APP, {
    TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(port), WORKERS: '2', READY_TIMEOUT: '50', MAX_RESTARTS: '2', MIN_UPTIME: '1'
  })
  await app.waitFor(msg('worker not ready in time, killing it'), 'the ready timeout')
  t.strictSame(await app.exit, 1, 'never ready: a crash loop ends it')
  t.ok(app.lines.some((l) => l.msg === 'worker died' && l.signal === 'SIGKILL'))
})

test('workers: 1 runs in this process; SIGTERM drains and exits 0', async (t) => {
  const app = startFixture(t, APP, { TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(await freePort()), WORKERS: '1', EXEC_ARGV: '["--stack-trace-limit=7"]' })
  const listening = await app.waitFor(msg('listening in a single process'), 'the single process', READY)
  t.strictSame(app.lines.find(msg('execArgv applies to forked workers only: start this process with those flags'))?.execArgv, ['--stack-trace-limit=7'], 'execArgv cannot apply: a warning')
  const port = (listening.address as { port: number }).port
  const res = json(await h2Request(`https://127.0.0.1:${port}`, '/health'))
  t.equal(res.pid, app.child.pid, 'the process itself serves')
  t.equal(res.workerId, 0)
  const slow = h1Request(`https://127.0.0.1:${port}`, '/slow?ms=800')
  await new Promise((resolve) => setTimeout(resolve, 200))
  app.child.kill('SIGHUP')
  await app.waitFor(msg('SIGHUP ignored: a rolling restart needs at least 2 workers'), 'the SIGHUP warning')
  app.child.kill('SIGTERM')
  t.equal((await slow).status, 200)
  t.strictSame(await app.exit, 0)
})

test('SIGTERM: a worker that never finishes closing is killed one second after shutdownTimeout; SIGHUP while stopping is ignored; exit code 1', async (t) => {
  const app = await startApp(t, { FIXTURE_CLOSE: 'hang', SHUTDOWN_TIMEOUT: '1500' })
  const stoppedAt = Date.now()
  app.child.kill('SIGTERM')
  await app.waitFor(msg('stopping'), 'the stop')
  app.child.kill('SIGHUP')
  await app.waitFor(msg('SIGHUP ignored: the cluster is stopping'), 'the ignored SIGHUP')
  const killed = await app.waitForCount(msg('worker did not stop in time, killing it'), 2, 'the kills')
  t.equal(killed.length, 2)
  t.strictSame(await app.exit, 1)
  const elapsed = Date.now() - stoppedAt
  t.ok(elapsed >= 2500 && elapsed < 10_000, `killed at shutdownTimeout + 1 s (${elapsed} ms)`)
  t.notOk(app.lines.some(msg('rolling restart')), 'no restart while stopping')
})

test('workers: 1 whose app fails to close exits 1', async (t) => {
  const app = startFixture(t, APP, { TLS_KEY: tls.key, TLS_CERT: tls.cert, PORT: String(await freePort()), WORKERS: '1', FIXTURE_CLOSE: 'fail' })
  await app.waitFor(msg('listening in a single process'), 'the single process', READY)
  app.child.kill('SIGINT')
  t.strictSame(await app.exit, 1)
})

test('a rolling restart whose replacements fail keeps the old workers serving', async (t) => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = await mkdtemp(join(tmpdir(), 'fleet-reload-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const flag = join(dir, 'fail')
  const app = await startApp(t, { FIXTURE_FAIL_FLAG: flag })
  const before = alive(app)
  await writeFile(flag, '')
  app.child.kill('SIGHUP')
  const done = await app.waitFor(msg('rolling restart done'), 'the restart', READY)
  t.equal(done.replaced, 0)
  t.equal(done.failed, 2)
  t.equal(app.lines.filter(msg('replacement not ready, keeping the old worker')).length, 2)
  t.notOk(app.lines.some(msg('replacing worker')), 'a failed replacement is not replaced')
  t.strictSame(alive(app), before, 'the old workers still serve')
  const res = JSON.parse((await h2Request(app.origin, '/health')).body)
  t.ok(before.has(res.pid))
  app.child.kill('SIGTERM')
  t.strictSame(await app.exit, 0)
})

test('SIGTERM during a rolling restart stops the replacement and the workers; a blocked worker is killed at the deadline', async (t) => {
  const app = await startApp(t, { SHUTDOWN_TIMEOUT: '1500' })
  // one worker's event loop is blocked: it will not hear the drain
  const blocked = JSON.parse((await h1Request(app.origin, '/block', { method: 'POST' })).body).pid as number
  app.child.kill('SIGHUP')
  await app.waitFor((l) => l.msg === 'worker forked' && (l.worker as number) > 2, 'the first replacement')
  app.child.kill('SIGTERM')
  const done = await app.waitFor(msg('rolling restart done'), 'the end of the restart')
  t.equal(done.replaced, 0)
  t.equal(done.failed, 1, 'the replacement was stopped before it was ready')
  t.equal(app.lines.filter(msg('replacement not ready, keeping the old worker')).length, 1, 'the restart went no further')
  const killed = await app.waitFor(msg('worker did not stop in time, killing it'), 'the kill')
  t.equal(killed.workerPid, blocked)
  t.equal(await app.exit, 1, 'a worker had to be killed')
})

test('the handle: workers, reload() passing over a worker that died meanwhile, stop(), reload() while stopping', async (t) => {
  const app = await startApp(t, { FIXTURE_API: '1' })
  const states = await app.waitFor(msg('fixture: workers'), 'the workers')
  t.strictSame(states.states, ['ready', 'ready'])
  const old = app.lines.filter(msg('worker ready')).map((l) => ({ pid: l.workerPid as number, slot: l.slot as number }))
  // while slot 0's replacement starts, the worker of slot 1 dies: the restart passes over it
  await app.waitFor((l) => l.msg === 'worker forked' && l.slot === 0 && (l.worker as number) > 2, 'the first replacement')
  process.kill((old.find((w) => w.slot === 1) as { pid: number }).pid, 'SIGKILL')
  const reloaded = await app.waitFor(msg('fixture: reloaded'), 'the restart', READY)
  t.equal(reloaded.replaced, 1, 'slot 0 replaced; slot 1 was replaced by its respawn')
  t.equal(reloaded.failed, 0)
  const refused = await app.waitFor(msg('fixture: reload while stopping'), 'the refused reload')
  t.equal(refused.code, 'FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE')
  t.equal((await app.waitFor(msg('fixture: stopped'), 'the stop')).code, 0)
  t.equal(await app.exit, 0)
})

test('a stop while a replacement waits for its backoff forks nothing more', async (t) => {
  const app = await startApp(t, { INITIAL_DELAY: '5000' })
  const victim = app.lines.filter(msg('worker ready')).map((l) => l.workerPid as number)[0] as number
  process.kill(victim, 'SIGKILL')
  const waiting = await app.waitFor(msg('replacing worker'), 'the backoff')
  t.equal(waiting.delay, 5000)
  const forks = app.lines.filter(msg('worker forked')).length
  app.child.kill('SIGTERM')
  t.equal(await app.exit, 0)
  t.equal(app.lines.filter(msg('worker forked')).length, forks, 'no fork after the stop')
})
