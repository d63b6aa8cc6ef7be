// ClusterStore in a process that is not a cluster worker (sessions in the process), its options,
// and when it refuses to start. The primary's side is fastify-fleet/cluster's shared map
// (test/cluster/shared-map.test.ts).
import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { ClusterStore, FST_FLEET_SESSION_CLUSTER_UNSUPPORTED, type ClusterStoreOptions } from '../../plugins/session/index.js'
import { CLUSTER_DEFAULTS } from '../../plugins/session/stores/cluster.js'
import { withEnv } from '../helpers/env.js'

test('outside a cluster worker, ClusterStore passes the conformance suite with its sessions in the process', async (t) => {
  const cases = storeConformance((ctx) => new ClusterStore(ctx))
  // in this mode the backend is a Map in the process: it neither hangs nor fails
  t.strictSame(cases.filter((c) => c.skip !== undefined).map((c) => [c.name, c.skip]), [
    ['a backend that does not answer fails with a timeout', 'needs the hangingStore option'],
    ['a failing backend fails every call with a coded error, never a crash', 'needs the failingStore option'],
    ['a failing backend opens the circuit breaker: calls are refused at once, and a probe goes through after the cooldown', 'needs the failingStore option'],
    ['app: a failing store gives 5xx answers, and the app keeps serving', 'needs the failingStore option']
  ])
  t.equal(cases.length, 27)
  forTap(t, cases)
})

test('mode, defaults and a local set bounded like MemoryStore', async (t) => {
  t.strictSame(CLUSTER_DEFAULTS, { name: 'sessions', timeout: 1000 })
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
    [null, 'invalid option options: expected an object, got null'],
    ['sessions', 'invalid option options: expected an object, got "sessions"'],
    [[], 'invalid option options: expected an object, got an array'],
    [{ name: '' }, 'invalid option name: expected a non-empty string, got ""'],
    [{ name: 42 }, 'invalid option name: expected a non-empty string, got 42'],
    [{ name: ['a'] }, 'invalid option name: expected a non-empty string, got ["a"]'],
    [{ maxEntries: 0 }, 'invalid option maxEntries: expected a whole number ≥ 1, got 0'],
    [{ maxEntries: 2.5 }, 'invalid option maxEntries: expected a whole number ≥ 1, got 2.5'],
    [{ maxBytes: -1 }, 'invalid option maxBytes: expected a whole number ≥ 1, got -1'],
    [{ maxBytes: '1mb' }, 'invalid option maxBytes: expected a whole number ≥ 1, got "1mb"'],
    [{ timeout: 0 }, 'invalid option timeout: expected a number from 1 to 2147483647, got 0'],
    [{ timeout: 2 ** 31 }, 'invalid option timeout: expected a number from 1 to 2147483647, got 2147483648'],
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

test('a process no startCluster() primary serves: the store refuses to start', async (t) => {
  const foreign = 'this worker was forked by another node:cluster primary'
  t.equal(new FST_FLEET_SESSION_CLUSTER_UNSUPPORTED(foreign).message,
    'fastify-fleet/session: ClusterStore needs the workers to be started by startCluster() of fastify-fleet/cluster, and this worker was forked by another node:cluster primary; use RedisStore (or another shared store) instead')
  withEnv(t, { pm_id: '0', exec_mode: 'cluster_mode' })
  t.throws(() => new ClusterStore(), { code: 'FST_FLEET_SESSION_CLUSTER_UNSUPPORTED', message: /PM2 cluster mode/ })
})
