// ClusterStore in a process that is not a cluster worker (sessions in the process), its options,
// when it refuses to start, and the primary's side of the sessions (sessionHost) called directly.
import { test } from 'tap'
import { MemoryEntries } from '../../plugins/internal/memory-entries.js'
import { SESSION_TOPIC, sessionHost, type SessionRequest } from '../../plugins/internal/session-host.js'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { ClusterStore, FST_FLEET_SESSION_CLUSTER_UNSUPPORTED, type ClusterStoreOptions } from '../../plugins/session/index.js'
import { CLUSTER_DEFAULTS, CLUSTER_WORKER_ENV, unsupportedCluster } from '../../plugins/session/stores/cluster.js'

test('outside a cluster worker, ClusterStore passes the conformance suite with its sessions in the process', async (t) => {
  const cases = storeConformance((ctx) => new ClusterStore(ctx))
  // in this mode the backend is a Map in the process: it neither hangs nor fails
  t.strictSame(cases.filter((c) => c.skip !== undefined).map((c) => [c.name, c.skip]), [
    ['a backend that does not answer fails with a timeout', 'needs the hangingStore option'],
    ['a failing backend fails every call with a coded error, never a crash', 'needs the failingStore option'],
    ['app: a failing store gives 500s, and the app keeps serving', 'needs the failingStore option']
  ])
  t.equal(cases.length, 26)
  forTap(t, cases)
})

test('mode, defaults and a local set bounded like MemoryStore', async (t) => {
  t.strictSame(CLUSTER_DEFAULTS, { name: 'sessions', timeout: 1000 })
  t.equal(CLUSTER_WORKER_ENV, 'FLEET_CLUSTER_WORKER')
  t.equal(SESSION_TOPIC, 'fleet:session')
  class Probe extends ClusterStore {
    get timeout (): number { return this.options.timeout }
  }
  const store = new Probe()
  t.equal(store.mode, 'local')
  t.equal(store.timeout, 1000, 'a shorter default timeout than the other stores: the primary answers from memory')
  t.equal(new Probe({ timeout: 250 }).timeout, 250)
  t.equal(new Probe({ timeout: undefined }).timeout, 1000)

  const small = new ClusterStore({ maxEntries: 2, maxBytes: 40 })
  await small.set('a', { n: 1 })
  await small.set('b', { n: 2 })
  await small.get('a')
  await small.set('c', { n: 3 })
  t.strictSame((await small.ids()).sort(), ['a', 'c'], 'b was the least recently used')
  await t.rejects(small.set('d', { p: 'x'.repeat(40) }), {
    code: 'FST_FLEET_SESSION_TOO_LARGE', message: 'fastify-fleet/session: the serialized session takes 49 bytes, more than maxBytes (40)'
  })
  t.equal(await small.length(), 2)
  await small.destroy('a')
  t.strictSame(await small.ids(), ['c'])
  await small.clear()
  t.equal(await small.length(), 0)

  let now = Date.UTC(2030, 0, 1)
  const clocked = new ClusterStore({ now: () => now })
  await clocked.set('ada', { cookie: { expires: new Date(now + 60_000) }, user: 'ada' })
  now += 120_000
  await clocked.touch('ada', { cookie: { expires: new Date(now + 3_600_000) }, user: 'ada' })
  t.equal(await clocked.get('ada'), null, 'touch does not bring back a session that has expired')
  t.equal(await clocked.length(), 0)

  const stores = [new ClusterStore(), new ClusterStore()]
  await stores[0]?.set('x', { user: 'ada' })
  t.equal(await stores[1]?.get('x'), null, 'two stores of one process do not share a local set')
  await stores[0]?.close()
  await t.rejects(stores[0]?.get('x') as Promise<unknown>, { code: 'FST_FLEET_SESSION_CLOSED' })
})

test('invalid options throw FST_FLEET_SESSION_INVALID_OPTION naming them', async (t) => {
  const cases: Array<[unknown, string]> = [
    [null, 'invalid option options: expected an object'],
    ['sessions', 'invalid option options: expected an object'],
    [[], 'invalid option options: expected an object'],
    [{ name: '' }, 'invalid option name: expected a non-empty string, got an empty string'],
    [{ name: 42 }, 'invalid option name: expected a non-empty string, got number'],
    [{ name: ['a'] }, 'invalid option name: expected a non-empty string, got object'],
    [{ maxEntries: 0 }, 'invalid option maxEntries: expected a whole number ≥ 1, got 0'],
    [{ maxEntries: 2.5 }, 'invalid option maxEntries: expected a whole number ≥ 1, got 2.5'],
    [{ maxBytes: -1 }, 'invalid option maxBytes: expected a whole number ≥ 1, got -1'],
    [{ maxBytes: '1mb' }, 'invalid option maxBytes: expected a whole number ≥ 1, got "1mb"'],
    [{ timeout: 0 }, 'invalid option timeout: expected a number ≥ 1, got 0'],
    [{ timeout: 2 ** 31 }, 'invalid option timeout: expected at most 2147483647 ms, got 2147483648'],
    [{ ttl: -5 }, 'invalid option ttl: expected a number ≥ 1, got -5'],
    [{ nme: 'sessions' }, 'invalid option nme: unknown option'],
    [{ primary: true }, 'invalid option primary: unknown option']
  ]
  for (const [options, message] of cases) {
    t.throws(() => new ClusterStore(options as ClusterStoreOptions), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: `fastify-fleet/session: ${message}` }, JSON.stringify(options) ?? String(options))
  }
  const input = Object.freeze({ name: 'admin', maxEntries: 5, maxBytes: 1000, timeout: 300 })
  t.equal(new ClusterStore(input).mode, 'local', 'a frozen options object is read, not changed')
})

test('unsupportedCluster: PM2 cluster mode and workers of another primary have no primary keeping sessions', async (t) => {
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
    t.equal(unsupportedCluster(env, isWorker), expected, `${JSON.stringify(env)}, ${isWorker ? 'worker' : 'not a worker'}`)
  }
  t.equal(new FST_FLEET_SESSION_CLUSTER_UNSUPPORTED(foreign).message,
    'fastify-fleet/session: ClusterStore needs the workers to be started by startCluster() of fastify-fleet/cluster, and this worker was forked by another node:cluster primary; use RedisStore (or another shared store) instead')
})

test('sessionHost: one bounded set per store name, made by its first write with the limits it carries', async (t) => {
  const host = sessionHost()
  const limits = { maxEntries: 2 }
  const ask = (request: Record<string, unknown>): unknown => host({ store: 'sessions', ...request } as SessionRequest)
  // before any write the set does not exist: everything reads as empty, and nothing makes it
  t.equal(ask({ op: 'read', sid: 'a' }), null, 'nothing stored: null (undefined does not travel)')
  t.equal(ask({ op: 'refresh', sid: 'a', expiresAt: 3000, now: 0 }), false)
  t.equal(ask({ op: 'remove', sid: 'a' }), true)
  t.strictSame(ask({ op: 'ids', now: 0 }), [])
  t.equal(ask({ op: 'clear' }), true)
  t.equal(ask({ op: 'write', sid: 'z', text: '{}', expiresAt: 2000, limits }), true, 'the first write makes it')
  t.equal(ask({ op: 'remove', sid: 'z' }), true)
  t.equal(ask({ op: 'write', sid: 'a', text: '{"n":1}', expiresAt: 2000, limits }), true)
  t.strictSame(ask({ op: 'read', sid: 'a' }), { text: '{"n":1}', expiresAt: 2000 })
  t.equal(ask({ op: 'refresh', sid: 'a', expiresAt: 3000, now: 1999 }), true)
  t.equal(ask({ op: 'refresh', sid: 'missing', expiresAt: 3000, now: 0 }), false)
  t.strictSame(ask({ op: 'read', sid: 'a' }), { text: '{"n":1}', expiresAt: 3000 })
  t.equal(ask({ op: 'write', sid: 'b', text: '{}', expiresAt: 1000, limits }), true)
  t.strictSame(ask({ op: 'ids', now: 999 }), ['b', 'a'])
  t.strictSame(ask({ op: 'ids', now: 1000 }), ['a'], 'expired entries are dropped when listed')
  t.equal(ask({ op: 'read', sid: 'b' }), null)
  t.equal(ask({ op: 'write', sid: 'c', text: '{}', expiresAt: 5000, limits }), true)
  t.equal(ask({ op: 'write', sid: 'd', text: '{}', expiresAt: 5000, limits }), true)
  t.strictSame(ask({ op: 'ids', now: 0 }), ['d', 'c'], 'maxEntries of the first request: a went')
  t.equal(ask({ op: 'remove', sid: 'c' }), true)
  t.strictSame(ask({ op: 'ids', now: 0 }), ['d'])
  t.equal(ask({ op: 'refresh', sid: 'd', expiresAt: 9000, now: 5000 }), false, 'an entry expired at now is not brought back')
  t.strictSame(ask({ op: 'ids', now: 0 }), [], 'it is dropped')
  t.equal(ask({ op: 'write', sid: 'd', text: '{}', expiresAt: 5000, limits }), true)

  const admin = { store: 'admin', limits: { maxEntries: 10, maxBytes: 100 } }
  t.strictSame(ask({ store: 'admin', op: 'ids', now: 0 }), [], 'another name, another set')
  t.equal(ask({ ...admin, op: 'write', sid: 'e', text: 'x'.repeat(100), expiresAt: 5000 }), false, 'larger than maxBytes (id included): refused')
  t.equal(ask({ ...admin, op: 'write', sid: 'e', text: 'x'.repeat(50), expiresAt: 5000 }), true)
  t.equal(ask({ store: 'admin', limits: { maxEntries: 1 }, op: 'write', sid: 'f', text: '1', expiresAt: 5000 }), true)
  t.strictSame(ask({ store: 'admin', op: 'ids', now: 0 }), ['f', 'e'], 'the limits of later writes change nothing')
  t.equal(ask({ store: 'admin', op: 'clear' }), true)
  t.strictSame(ask({ store: 'admin', op: 'ids', now: 0 }), [])
  t.strictSame(ask({ op: 'ids', now: 0 }), ['d'], 'clearing one name leaves the others')
  t.ok(new MemoryEntries({ maxEntries: 1 }), 'the entries are MemoryStore\'s')
})
