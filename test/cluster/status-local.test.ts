// status() outside a cluster (this process, a plain Fastify app with fleetWorker), and the reports
// a worker answers the heartbeat with, as the primary reads them.
import fastify from 'fastify'
import t from 'tap'
import { fleetWorker, TOPICS, type FleetStatus } from '../../plugins/cluster/index.js'
import { readReport, workerReport } from '../../plugins/cluster/status.js'
import { sleep } from '../helpers/eventually.js'

t.test('a plain app with fleetWorker: this process alone, starting, ready, draining', async (t) => {
  const app = fastify()
  await app.register(fleetWorker)
  t.teardown(() => app.close())
  await app.ready()
  const starting = await app.fleet.status()
  t.equal(starting.primary, null, 'no primary')
  t.equal(starting.workers.length, 1)
  t.match(starting.workers[0], { id: 0, pid: process.pid, slot: 0, state: 'starting', restarts: 0 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  await sleep(60)
  const ready: FleetStatus = await app.fleet.status()
  const me = ready.workers[0] as FleetStatus['workers'][number]
  t.equal(me.state, 'ready')
  t.ok(me.uptime > 0)
  t.ok((me.memory?.rss as number) > 0 && (me.memory?.heapUsed as number) > 0, 'memory')
  t.ok(me.eventLoopDelay !== null && me.eventLoopDelay.p50 >= 0 && me.eventLoopDelay.p50 <= me.eventLoopDelay.max, 'event-loop delay')
  await app.fleet.drain()
  t.equal((await app.fleet.status()).workers[0]?.state, 'draining')
  t.equal(app.fleet.bus.role, 'standalone')
  await t.rejects(app.fleet.bus.request(TOPICS.status, null, { timeout: 50 }), { code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER' }, 'no bus round trip outside a cluster')
})

t.test('workerReport: memory now; the event-loop delay since the last report, kept when nothing was sampled since', async (t) => {
  await sleep(60)
  const first = workerReport()
  t.ok(first.memory.rss > 0 && first.memory.heapUsed > 0)
  t.ok(first.eventLoopDelay !== null, 'sampled every 20 ms')
  // no timer ran in between: nothing new sampled, the last delay again
  t.strictSame(workerReport().eventLoopDelay, first.eventLoopDelay)
})

t.test('readReport: a report, or none from an older worker answering `true`', async (t) => {
  const report = { memory: { rss: 3, heapUsed: 2 }, eventLoopDelay: { p50: 0, p99: 1.5, max: 4 } }
  t.strictSame(readReport(report), report)
  t.strictSame(readReport(true), { memory: null, eventLoopDelay: null })
  t.strictSame(readReport(null), { memory: null, eventLoopDelay: null })
  t.strictSame(readReport({}), { memory: null, eventLoopDelay: null })
})
