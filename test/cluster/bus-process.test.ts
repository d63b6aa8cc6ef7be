// The IPC bus between real processes: a startCluster() primary with two workers (test/cluster/fixtures/bus-app.ts).
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { httpRequestPlain } from '../helpers/clients.js'
import { msg, startFixture, waitGone, type LogLine } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

const FIXTURE = fileURLToPath(new URL('./fixtures/bus-app.ts', import.meta.url))

test('workers ask the primary, the primary asks a worker, broadcasts reach every process; a dead primary closes the bus', async (t) => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const cluster = startFixture(t, FIXTURE, { PORT: String(port) })
  const ready = await cluster.waitForCount(msg('fixture: ready'), 2, 'two workers', 60_000)
  const workers = ready.map((line) => line.worker as { id: number, pid: number }).sort((a, b) => a.id - b.id)
  for (const w of workers) cluster.alsoKill(w.pid)
  const [a, b] = workers as [{ id: number, pid: number }, { id: number, pid: number }]
  const pidOf = new Map(workers.map((w) => [w.id, w.pid]))
  const other = (id: number): number => id === a.id ? b.id : a.id

  const get = async (path: string): Promise<LogLine> => {
    const res = await httpRequestPlain(origin, path)
    t.equal(res.status, 200, `${path}: 200`)
    return JSON.parse(res.body)
  }
  const ask = async (body: Record<string, unknown>): Promise<LogLine> => {
    const res = await httpRequestPlain(origin, '/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    t.equal(res.status, 200, `ask ${String(body.topic)}: 200`)
    return JSON.parse(res.body)
  }

  await t.test('a worker\'s bus', async (t) => {
    const me = await get('/whoami')
    t.strictSame(me, { workerId: me.workerId, pid: pidOf.get(me.workerId), role: 'worker', fleetWorkerId: me.workerId })
  })

  await t.test('worker → primary: answers and coded errors', async (t) => {
    const echo = await ask({ topic: 'echo', data: { x: [1, 'two'] } })
    t.strictSame(echo, { workerId: echo.workerId, value: { data: { x: [1, 'two'] }, from: { workerId: echo.workerId } } }, 'the primary sees which worker asked')
    t.ok(pidOf.has(echo.workerId))

    const failed = await ask({ topic: 'fail' })
    t.strictSame(failed, {
      workerId: failed.workerId,
      code: 'FST_FLEET_CLUSTER_BUS_REMOTE',
      message: 'fastify-fleet/cluster: bus handler for "fail" failed: nope',
      remoteCode: 'E_NOPE'
    })
    const nobody = await ask({ topic: 'nobody' })
    t.strictSame(nobody, {
      workerId: nobody.workerId, code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER', message: 'fastify-fleet/cluster: no handler for bus topic "nobody" in the primary'
    })
    const started = Date.now()
    const slow = await ask({ topic: 'hang', timeout: 300 })
    t.strictSame(slow, {
      workerId: slow.workerId, code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "hang" got no answer within 300 ms'
    })
    t.ok(Date.now() - started >= 300, 'after its timeout')
    const unsendable = await ask({ topic: 'echo', bigint: true })
    t.strictSame(unsendable, {
      workerId: unsendable.workerId,
      code: 'FST_FLEET_CLUSTER_BUS_UNSENDABLE',
      message: 'fastify-fleet/cluster: bus message for "echo" cannot be sent: Do not know how to serialize a BigInt'
    })
    const badAnswer = await ask({ topic: 'bigint' })
    t.strictSame(badAnswer, {
      workerId: badAnswer.workerId,
      code: 'FST_FLEET_CLUSTER_BUS_REMOTE',
      message: 'fastify-fleet/cluster: bus handler for "bigint" failed: the answer cannot be sent: Do not know how to serialize a BigInt',
      remoteCode: 'FST_FLEET_CLUSTER_BUS_UNSENDABLE'
    })
  })

  await t.test('worker → primary → another worker (relay)', async (t) => {
    const first = await ask({ topic: 'echo' })
    const target = other(first.workerId)
    // connections go round-robin: whichever worker asks, it names the other one
    const relayed = await ask({ topic: 'relay', data: { to: target, topic: 'whoami', data: 'hi' } })
    t.strictSame(relayed.value, { workerId: target, pid: pidOf.get(target), data: 'hi', from: { workerId: 0 } })
    const missing = await ask({ topic: 'relay', data: { to: 99, topic: 'whoami' } })
    t.strictSame(missing, {
      workerId: missing.workerId,
      code: 'FST_FLEET_CLUSTER_BUS_REMOTE',
      message: 'fastify-fleet/cluster: bus handler for "relay" failed: fastify-fleet/cluster: bus request "whoami" cannot be answered: there is no worker 99',
      remoteCode: 'FST_FLEET_CLUSTER_BUS_CLOSED'
    })
  })

  await t.test('primary → worker: handle.bus.request(workerId, ...)', async (t) => {
    cluster.command({ cmd: 'ask', id: 'who-a', to: a.id, topic: 'whoami', data: { n: 1 } })
    cluster.command({ cmd: 'ask', id: 'nobody-b', to: b.id, topic: 'nobody' })
    cluster.command({ cmd: 'ask', id: 'gone', to: 99, topic: 'whoami' })
    const asked = (id: string): Promise<LogLine> => cluster.waitFor(msg('fixture: primary asked', { id }), `the primary's request ${id}`)
    t.strictSame(await asked('who-a'), { msg: 'fixture: primary asked', id: 'who-a', value: { workerId: a.id, pid: a.pid, data: { n: 1 }, from: { workerId: 0 } } })
    t.strictSame(await asked('nobody-b'), {
      msg: 'fixture: primary asked', id: 'nobody-b', code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER', message: `fastify-fleet/cluster: no handler for bus topic "nobody" in the worker ${b.id}`
    })
    t.strictSame(await asked('gone'), {
      msg: 'fixture: primary asked', id: 'gone', code: 'FST_FLEET_CLUSTER_BUS_CLOSED', message: 'fastify-fleet/cluster: bus request "whoami" cannot be answered: there is no worker 99'
    })
  })

  await t.test('broadcasts: from a worker to every process, itself included; from the primary to every process', async (t) => {
    const res = await httpRequestPlain(origin, '/broadcast', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'news', data: { n: 1 } }) })
    t.equal(res.status, 202)
    const sender = JSON.parse(res.body).workerId as number
    const fromWorker = (line: LogLine): boolean => line.data?.n === 1
    const heard = await cluster.waitForCount((l) => (l.msg === 'fixture: worker heard' || l.msg === 'fixture: primary heard') && fromWorker(l), 3, 'three listeners')
    t.strictSame(heard.map((l) => [l.msg, l.workerId, l.from]).sort(), [
      ['fixture: primary heard', undefined, { workerId: sender }],
      ['fixture: worker heard', a.id, { workerId: sender }],
      ['fixture: worker heard', b.id, { workerId: sender }]
    ].sort())

    cluster.command({ cmd: 'broadcast', topic: 'news', data: { n: 2 } })
    const fromPrimary = await cluster.waitForCount((l) => (l.msg === 'fixture: worker heard' || l.msg === 'fixture: primary heard') && l.data?.n === 2, 3, 'three listeners')
    t.strictSame(fromPrimary.map((l) => [l.msg, l.workerId, l.from]).sort(), [
      ['fixture: primary heard', undefined, { workerId: 0 }],
      ['fixture: worker heard', a.id, { workerId: 0 }],
      ['fixture: worker heard', b.id, { workerId: 0 }]
    ].sort())
    t.equal(cluster.lines.filter((l) => l.msg?.endsWith(' heard')).length, 6, 'each heard each broadcast once')
  })

  await t.test('the primary killed: a request after it fails with FST_FLEET_CLUSTER_BUS_CLOSED; the workers exit by themselves', async (t) => {
    // worker a: a request pending in the primary; worker b: busy when the primary dies, then asks
    cluster.command({ cmd: 'ask', id: 'start-hang', to: a.id, topic: 'start-hang' })
    await cluster.waitFor((l) => l.msg === 'fixture: primary hangs' && l.from?.workerId === a.id, 'the pending request')
    cluster.command({ cmd: 'ask', id: 'spin', to: b.id, topic: 'spin', data: { ms: 3000 } })
    await cluster.waitFor(msg('fixture: spinning', { workerId: b.id }), 'worker b busy')
    cluster.child.kill('SIGKILL')
    t.equal(await cluster.exit, 'SIGKILL')

    const exits = await cluster.waitForCount(msg('fixture: exit'), 2, 'both workers exiting')
    t.strictSame(exits.map((l) => [l.workerId, l.code]).sort(), [[a.id, 0], [b.id, 0]], 'exit code 0')
    t.equal(await waitGone(a.pid), true, 'worker a is gone')
    t.equal(await waitGone(b.pid), true, 'worker b is gone')
    // an exit listener runs last: what the workers had to say is all printed now
    const outcomes = Object.fromEntries(cluster.lines.filter(msg('fixture: outcome')).map(({ msg: _m, label, ...rest }) => [`${String(label)} ${String(rest.workerId)}`, rest]))
    const closed = (topic: string, why: string): Record<string, string> => ({
      code: 'FST_FLEET_CLUSTER_BUS_CLOSED', message: `fastify-fleet/cluster: bus request "${topic}" cannot be answered: the primary is gone (${why})`
    })
    // worker b wrote to the channel before it read that the primary was gone
    t.strictSame(outcomes[`after spin ${b.id}`], { workerId: b.id, ...closed('echo', 'write EPIPE') })

    await t.test('pending requests fail with FST_FLEET_CLUSTER_BUS_CLOSED and the workers drain before they exit', async (t) => {
      t.strictSame(outcomes, {
        [`hang ${a.id}`]: { workerId: a.id, ...closed('hang', 'IPC channel closed') },
        [`after disconnect ${a.id}`]: { workerId: a.id, ...closed('echo', 'IPC channel closed') },
        [`after spin ${b.id}`]: { workerId: b.id, ...closed('echo', 'write EPIPE') },
        [`after disconnect ${b.id}`]: { workerId: b.id, ...closed('echo', 'write EPIPE') }
      })
    })
  })
})
