// The primary's side of certificate reloads (plugins/cluster/certificates.ts) on a stand-in bus: the
// requests it refuses and how it reports each worker. test/server/reload-cluster.test.ts runs them
// in a real cluster.
import t from 'tap'
import { fileWatchHost, reloadWorkerCertificates } from '../../plugins/cluster/certificates.js'
import type { PrimaryBus } from '../../plugins/cluster/primary-bus.js'

/** A bus that records handlers and broadcasts, and answers requests with `answer`. */
function standIn (answer: (workerId: number) => Promise<unknown>): PrimaryBus & { handlers: Map<string, (data: unknown) => unknown>, sent: unknown[] } {
  const handlers = new Map<string, (data: unknown) => unknown>()
  const sent: unknown[] = []
  return {
    role: 'primary',
    handlers,
    sent,
    request: async <R>(workerId: number) => await answer(workerId) as R,
    broadcast: (topic, data) => { sent.push({ topic, data }) },
    handle: (topic, handler) => { handlers.set(topic, handler as (data: unknown) => unknown); return () => {} },
    on: () => () => {}
  }
}

t.test('fleet:watch-files refuses what is not { paths, interval >= 100 }', async (t) => {
  const bus = standIn(async () => null)
  const stop = fileWatchHost(bus)
  t.teardown(stop)
  const handler = bus.handlers.get('fleet:watch-files') as (data: unknown) => unknown
  for (const bad of [undefined, null, {}, { paths: [], interval: 100 }, { paths: ['/a', 1], interval: 100 }, { paths: '/a', interval: 100 }, { paths: ['/a'] }, { paths: ['/a'], interval: 99 }, { paths: ['/a'], interval: Number.NaN }]) {
    t.throws(() => handler(bad), /expected \{ paths: string\[\], interval: number >= 100 \}/, JSON.stringify(bad) ?? 'undefined')
  }
  t.equal(handler({ paths: ['/nonexistent/a'], interval: 100 }), true)
  t.equal(handler({ paths: ['/nonexistent/a'], interval: 100 }), true, 'the same files again: the one watch serves both')
})

t.test('reports: a worker without certificate files answers an empty list; a failure is reported with its code', async (t) => {
  const noHandler = Object.assign(new Error('no handler'), { code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER' })
  const remote = Object.assign(new Error('bus handler failed: bad key'), { code: 'FST_FLEET_CLUSTER_BUS_REMOTE', remoteCode: 'FST_FLEET_SERVER_TLS_RELOAD_FAILED' })
  const gone = Object.assign(new Error('worker 4 is gone'), { code: 'FST_FLEET_CLUSTER_BUS_CLOSED' })
  const certificate = { changed: true, serial: '01', fingerprint256: 'AA', expiresAt: '2027-01-01T00:00:00.000Z' }
  const answers: Record<number, () => Promise<unknown>> = {
    1: async () => [certificate],
    2: async () => { throw noHandler },
    3: async () => { throw remote },
    4: async () => { throw gone }
  }
  const bus = standIn(async (id) => await (answers[id] as () => Promise<unknown>)())
  t.same(await reloadWorkerCertificates(bus, [1, 2, 3, 4].map((id) => ({ id, pid: 100 + id })), 1000), [
    { workerId: 1, pid: 101, certificates: [certificate] },
    { workerId: 2, pid: 102, certificates: [] },
    { workerId: 3, pid: 103, certificates: [], error: { message: 'bus handler failed: bad key', code: 'FST_FLEET_SERVER_TLS_RELOAD_FAILED' } },
    { workerId: 4, pid: 104, certificates: [], error: { message: 'worker 4 is gone', code: 'FST_FLEET_CLUSTER_BUS_CLOSED' } }
  ])
})
