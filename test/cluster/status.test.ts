// status() with real processes: a startCluster() primary with two workers, and a single process
// (test/cluster/fixtures/status-app.ts). Time only bounds the waits; nothing asserts a duration.
import { fileURLToPath } from 'node:url'
import t, { test, type Test } from 'tap'
import type { FleetStatus, WorkerStatus } from '../../plugins/cluster/index.js'
import { httpRequestPlain } from '../helpers/clients.js'
import { eventually } from '../helpers/eventually.js'
import { msg, startFixture, waitGone, type FixtureProcess, type LogLine } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

const FIXTURE = fileURLToPath(new URL('./fixtures/status-app.ts', import.meta.url))
const READY = 60_000

/** Asks the fixture's primary (or single process) for `handle.status()`. */
function statusOf (app: FixtureProcess): () => Promise<FleetStatus> {
  let id = 0
  return async () => {
    const asked = ++id
    app.command({ cmd: 'status', id: asked })
    return (await app.waitFor((l) => l.msg === 'fixture: status' && l.id === asked, `status ${asked}`)).status
  }
}

/** The first status in which `count` workers are ready and have reported their event-loop delay. */
async function reported (status: () => Promise<FleetStatus>, count: number): Promise<FleetStatus> {
  return await eventually(async () => {
    const s = await status()
    if (s.workers.length !== count || s.workers.some((w) => w.state !== 'ready' || w.eventLoopDelay === null)) throw new Error(`not yet: ${JSON.stringify(s)}`)
    return s
  }, READY)
}

const bySlot = (s: FleetStatus): WorkerStatus[] => [...s.workers].sort((a, b) => a.slot - b.slot)
const who = (s: FleetStatus): Array<Pick<WorkerStatus, 'id' | 'pid' | 'slot'>> => bySlot(s).map(({ id, pid, slot }) => ({ id, pid, slot }))

function plausible (t: Test, w: WorkerStatus): void {
  const memory = w.memory as NonNullable<WorkerStatus['memory']>
  t.ok(memory.heapUsed > 0 && memory.rss > memory.heapUsed, `memory ${JSON.stringify(memory)}`)
  const delay = w.eventLoopDelay as NonNullable<WorkerStatus['eventLoopDelay']>
  t.ok(delay.p50 >= 0 && delay.p50 <= delay.p99 && delay.p99 <= delay.max, `event-loop delay ${JSON.stringify(delay)}`)
  t.ok(w.uptime > 0, 'uptime')
}

test('a cluster of two: status from the primary and from a worker; restarts after kill -9; a draining worker; the primary gone', async (t) => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const app = startFixture(t, FIXTURE, { PORT: String(port), WORKERS: '2' })
  const status = statusOf(app)
  const ready = await app.waitForCount(msg('worker ready'), 2, 'two workers', READY)
  for (const l of ready) app.alsoKill(l.workerPid)

  const first = await reported(status, 2)
  t.equal(first.primary?.pid, app.pid, 'the primary')
  t.ok((first.primary?.uptime as number) > 0)
  const primaryMemory = first.primary?.memory as { rss: number, heapUsed: number }
  t.ok(primaryMemory.heapUsed > 0 && primaryMemory.rss > primaryMemory.heapUsed, 'the primary\'s own memory')
  t.strictSame(who(first), ready.map((l) => ({ id: l.worker, pid: l.workerPid, slot: l.slot })).sort((a, b) => a.slot - b.slot), 'the workers that said they were ready')
  for (const w of first.workers) {
    t.equal(w.state, 'ready')
    t.equal(w.restarts, 0)
    plausible(t, w)
  }

  // a worker asks the primary: the same cluster
  const fromWorker = JSON.parse((await httpRequestPlain(origin, '/status')).body) as FleetStatus
  t.equal(fromWorker.primary?.pid, app.pid)
  t.strictSame(who(fromWorker), who(first), 'the same ids, pids and slots')
  for (const w of fromWorker.workers) plausible(t, w)

  // kill -9 the worker of slot 0: its replacement counts one restart, slot 1 none
  const victim = bySlot(first)[0] as WorkerStatus
  process.kill(victim.pid as number, 'SIGKILL')
  const replacement = await app.waitFor((l) => l.msg === 'worker ready' && l.slot === 0 && l.worker !== victim.id, 'the replacement', READY)
  app.alsoKill(replacement.workerPid)
  const afterKill = bySlot(await reported(status, 2))
  t.strictSame(afterKill.map((w) => [w.slot, w.id, w.restarts]), [[0, replacement.worker, 1], [1, bySlot(first)[1]?.id, 0]])

  // rolling restart while each worker holds a request: the old worker is draining until released
  const holds: Array<Promise<unknown>> = []
  const holding = new Set<number>()
  for (let i = 0; i < 10 && holding.size < 2; i++) {
    holds.push(httpRequestPlain(origin, '/hold'))
    const lines = await app.waitForCount(msg('fixture: holding'), i + 1, 'the hold')
    holding.add((lines[i] as LogLine).pid)
  }
  t.equal(holding.size, 2, 'both workers hold a request')
  const old = new Set(afterKill.map((w) => w.id))
  app.command({ cmd: 'reload' })
  const during = await eventually(async () => {
    const s = await status()
    const draining = s.workers.find((w) => w.state === 'draining')
    if (draining === undefined) throw new Error(`no worker draining yet: ${JSON.stringify(s)}`)
    return { s, draining }
  }, READY)
  t.ok(old.has(during.draining.id), 'an old worker drains')
  t.ok(during.s.workers.some((w) => w.slot === during.draining.slot && !old.has(w.id) && w.state === 'ready'), 'next to its ready replacement')
  app.command({ cmd: 'release' })
  const reloaded = await app.waitFor(msg('fixture: reloaded'), 'the rolling restart', READY)
  t.equal(reloaded.replaced, 2)
  for (const res of await Promise.all(holds) as Array<{ status: number }>) t.equal(res.status, 200, 'the held request was served')
  const fresh = app.lines.filter(msg('worker ready')).slice(3)
  for (const l of fresh) app.alsoKill(l.workerPid)
  const afterReload = bySlot(await reported(status, 2))
  t.ok(afterReload.every((w) => !old.has(w.id)), 'new workers')
  t.strictSame(afterReload.map((w) => w.restarts), [1, 0], 'a rolling restart is not counted as a restart')
  const fromNewWorker = JSON.parse((await httpRequestPlain(origin, '/status')).body) as FleetStatus
  t.strictSame(who(fromNewWorker), who(await status()), 'a new worker asks the same primary')

  // the primary is gone: a worker's status() rejects with the bus's error; the workers exit by themselves
  const since = app.lines.length
  app.command({ cmd: 'exit' })
  await app.waitForCount((l) => l.msg === 'fixture: status after disconnect' && app.lines.indexOf(l) >= since, 2, 'both workers')
  const failed = app.lines.slice(since).filter(msg('fixture: status after disconnect'))
  t.strictSame(failed.map((l) => l.code), ['FST_FLEET_CLUSTER_BUS_CLOSED', 'FST_FLEET_CLUSTER_BUS_CLOSED'])
  t.strictSame(new Set(failed.map((l) => l.pid)), new Set(fresh.map((l) => l.workerPid)))
  for (const l of fresh) t.ok(await waitGone(l.workerPid), `worker ${l.workerPid as number} exited`)
})

test('a single process: status() of this process alone, from the handle and from app.fleet', async (t) => {
  const port = await freePort()
  const app = startFixture(t, FIXTURE, { PORT: String(port), WORKERS: '1' })
  await app.waitFor(msg('listening in a single process'), 'the single process', READY)
  const status = statusOf(app)
  const fromHandle = await eventually(async () => {
    const s = await status()
    if (s.workers[0]?.eventLoopDelay === null) throw new Error('no event-loop delay yet')
    return s
  }, READY)
  t.equal(fromHandle.primary, null)
  t.strictSame(fromHandle.workers.map(({ id, pid, slot, state, restarts }) => ({ id, pid, slot, state, restarts })), [{ id: 0, pid: app.pid, slot: 0, state: 'ready', restarts: 0 }])
  plausible(t, fromHandle.workers[0] as WorkerStatus)
  const fromApp = JSON.parse((await httpRequestPlain(`http://127.0.0.1:${port}`, '/status')).body) as FleetStatus
  t.equal(fromApp.primary, null)
  t.strictSame(fromApp.workers.map(({ id, pid }) => ({ id, pid })), [{ id: 0, pid: app.pid }])
  plausible(t, fromApp.workers[0] as WorkerStatus)
  app.child.kill('SIGTERM')
  t.equal(await app.exit, 0)
})
