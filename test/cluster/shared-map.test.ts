// The shared map of fastify-fleet/cluster: its primary's side (sharedMapHost) called directly, the
// map of a process that is not a worker, its options, and where no startCluster() primary serves.
// Across real workers it runs under ClusterStore (test/session/cluster-store-workers.test.ts).
import { test } from 'tap'
import { ENV, missingFleetPrimary, sharedMap, TOPICS } from '../../plugins/cluster/index.js'
import { sharedMapHost, SHARED_MAP_DEFAULTS, type SharedMapRequest } from '../../plugins/cluster/shared-map.js'
import { withEnv } from '../helpers/env.js'

test('names: one module holds the environment variables and topics', async (t) => {
  t.strictSame(ENV, { inProcess: 'FLEET_CLUSTER', worker: 'FLEET_CLUSTER_WORKER', slot: 'FLEET_WORKER_SLOT' })
  t.strictSame(TOPICS, { shared: 'fleet:shared', ready: 'fleet:ready', ping: 'fleet:ping', drain: 'fleet:drain', sharedMap: 'fleet:shared-map', status: 'fleet:status', watchFiles: 'fleet:watch-files', filesChanged: 'fleet:files-changed', reloadCertificates: 'fleet:reload-certificates' })
})

test('missingFleetPrimary: PM2 cluster mode and workers of another primary have no startCluster() primary', async (t) => {
  const pm2 = 'this process runs under PM2 cluster mode (PM2\'s daemon is the primary)'
  const foreign = 'this worker was forked by another node:cluster primary'
  const cases: Array<[NodeJS.ProcessEnv, boolean, string | null]> = [
    [{}, false, null],
    [{ FLEET_CLUSTER_WORKER: '1' }, true, null],
    [{}, true, foreign],
    [{ FLEET_CLUSTER_WORKER: '0' }, true, foreign],
    [{ pm_id: '0', exec_mode: 'cluster_mode' }, true, pm2],
    [{ pm_id: '3', exec_mode: 'cluster_mode', FLEET_CLUSTER_WORKER: '1' }, true, pm2],
    [{ pm_id: '0', exec_mode: 'cluster_mode' }, false, pm2],
    // PM2 in fork mode: one process, or the primary of a startCluster() cluster and its workers
    [{ pm_id: '0', exec_mode: 'fork_mode' }, false, null],
    [{ pm_id: '0', exec_mode: 'fork_mode', FLEET_CLUSTER_WORKER: '1' }, true, null],
    [{ pm_id: '0', exec_mode: 'fork_mode' }, true, foreign],
    [{ exec_mode: 'cluster_mode' }, false, null]
  ]
  for (const [env, isWorker, expected] of cases) {
    t.equal(missingFleetPrimary(env, isWorker), expected, `${JSON.stringify(env)}, ${isWorker ? 'worker' : 'not a worker'}`)
  }
})

test('sharedMapHost: one bounded map per name, made by its first write with the limits it carries', async (t) => {
  const host = sharedMapHost()
  const limits = { maxEntries: 2 }
  const ask = (request: Record<string, unknown>): unknown => host({ map: 'sessions', ...request } as SharedMapRequest)
  // before any write the map does not exist: everything reads as empty, and nothing makes it
  t.equal(ask({ op: 'get', key: 'a' }), null, 'nothing stored: null (undefined does not travel)')
  t.equal(ask({ op: 'expire', key: 'a', expiresAt: 3000, now: 0 }), false)
  t.equal(ask({ op: 'delete', key: 'a' }), true)
  t.strictSame(ask({ op: 'keys', now: 0 }), [])
  t.equal(ask({ op: 'clear' }), true)
  t.equal(ask({ op: 'set', key: 'z', value: '{}', expiresAt: 2000, limits }), true, 'the first write makes it')
  t.equal(ask({ op: 'delete', key: 'z' }), true)
  t.equal(ask({ op: 'set', key: 'a', value: '{"n":1}', expiresAt: 2000, limits }), true)
  t.strictSame(ask({ op: 'get', key: 'a' }), { value: '{"n":1}', expiresAt: 2000 })
  t.equal(ask({ op: 'expire', key: 'a', expiresAt: 3000, now: 1999 }), true)
  t.equal(ask({ op: 'expire', key: 'missing', expiresAt: 3000, now: 0 }), false)
  t.strictSame(ask({ op: 'get', key: 'a' }), { value: '{"n":1}', expiresAt: 3000 })
  t.equal(ask({ op: 'set', key: 'b', value: '{}', expiresAt: 1000, limits }), true)
  t.strictSame(ask({ op: 'keys', now: 999 }), ['b', 'a'])
  t.strictSame(ask({ op: 'keys', now: 1000 }), ['a'], 'expired entries are dropped when listed')
  t.equal(ask({ op: 'get', key: 'b' }), null)
  t.equal(ask({ op: 'set', key: 'c', value: '{}', expiresAt: 5000, limits }), true)
  t.equal(ask({ op: 'set', key: 'd', value: '{}', expiresAt: 5000, limits }), true)
  t.strictSame(ask({ op: 'keys', now: 0 }), ['d', 'c'], 'maxEntries of the first request: a went')
  t.equal(ask({ op: 'delete', key: 'c' }), true)
  t.strictSame(ask({ op: 'keys', now: 0 }), ['d'])
  t.equal(ask({ op: 'expire', key: 'd', expiresAt: 9000, now: 5000 }), false, 'an entry expired at now is not brought back')
  t.strictSame(ask({ op: 'keys', now: 0 }), [], 'it is dropped')

  const admin = { map: 'admin', limits: { maxEntries: 10, maxBytes: 100 } }
  t.strictSame(ask({ map: 'admin', op: 'keys', now: 0 }), [], 'another name, another map')
  t.equal(ask({ ...admin, op: 'set', key: 'e', value: 'x'.repeat(100), expiresAt: 5000 }), false, 'larger than maxBytes (key included): refused')
  t.equal(ask({ ...admin, op: 'set', key: 'e', value: 'x'.repeat(50), expiresAt: 5000 }), true)
  t.equal(ask({ map: 'admin', limits: { maxEntries: 1 }, op: 'set', key: 'f', value: '1', expiresAt: 5000 }), true)
  t.strictSame(ask({ map: 'admin', op: 'keys', now: 0 }), ['f', 'e'], 'the limits of later writes change nothing')
  t.equal(ask({ map: 'admin', op: 'clear' }), true)
  t.strictSame(ask({ map: 'admin', op: 'keys', now: 0 }), [])
  t.equal(ask({ op: 'set', key: 'g', value: '{}', expiresAt: 5000, limits }), true)
  t.strictSame(ask({ op: 'keys', now: 0 }), ['g'], 'clearing one name leaves the others')
})

test('sharedMap outside a cluster: the entries live in the process, every call a promise', async (t) => {
  t.strictSame(SHARED_MAP_DEFAULTS, { maxEntries: 10000, timeout: 1000, now: Date.now })
  let now = 1000
  const map = sharedMap('tokens', { maxEntries: 2, maxBytes: 20, now: () => now })
  t.strictSame([map.name, map.location], ['tokens', 'local'])
  const set = map.set('a', 'one', 2000)
  t.ok(set instanceof Promise, 'a promise, as in a worker')
  t.equal(await set, true)
  t.strictSame(await map.get('a'), { value: 'one', expiresAt: 2000 })
  t.equal(await map.get('b'), null)
  t.equal(await map.set('b', 'x'.repeat(20), 2000), false, 'larger than maxBytes')
  t.equal(await map.expire('a', 3000), true)
  t.strictSame(await map.keys(), ['a'])
  now = 3000
  t.equal(await map.expire('a', 4000), false, 'expired by the map\'s clock')
  t.strictSame(await map.keys(), [])
  await map.set('c', 'three', 5000)
  await map.delete('c')
  t.equal(await map.get('c'), null)
  await map.set('d', 'four', 5000)
  await map.clear()
  t.strictSame(await map.keys(), [])
  t.not(sharedMap('tokens'), map, 'outside a cluster, each map is its own')
})

test('sharedMap: invalid options are coded; where no startCluster() primary serves, it refuses', async (t) => {
  const cases: Array<[unknown, Record<string, unknown>, string]> = [
    ['', {}, 'name: expected a non-empty string, got ""'],
    [5, {}, 'name: expected a non-empty string, got 5'],
    ['m', { maxEntries: 0 }, 'maxEntries: expected a whole number ≥ 1, got 0'],
    ['m', { maxBytes: 1.5 }, 'maxBytes: expected a whole number ≥ 1, got 1.5'],
    ['m', { maxEntries: '5' }, 'maxEntries: expected a whole number ≥ 1, got "5"'],
    ['m', { timeout: 0 }, 'timeout: expected a number from 1 to 2147483647, got 0'],
    ['m', { timeout: '1s' }, 'timeout: expected a number from 1 to 2147483647, got "1s"'],
    ['m', { now: 5 }, 'now: expected a function returning milliseconds, got 5']
  ]
  for (const [name, options, message] of cases) {
    t.throws(() => sharedMap(name as string, options), { code: 'FST_FLEET_CLUSTER_INVALID_OPTION', message: `fastify-fleet/cluster: invalid option ${message}` }, message)
  }
  t.equal(sharedMap('m', { timeout: 1.5 }).location, 'local', 'a timeout need not be whole')

  withEnv(t, { pm_id: '0', exec_mode: 'cluster_mode' })
  t.throws(() => sharedMap('m'), {
    code: 'FST_FLEET_CLUSTER_NO_FLEET_PRIMARY',
    message: 'fastify-fleet/cluster: no startCluster() primary can host shared map "m": this process runs under PM2 cluster mode (PM2\'s daemon is the primary)'
  })
})
