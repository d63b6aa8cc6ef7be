// ClusterStore refuses to start where no startCluster() primary keeps the sessions: checked in
// real processes (test/session/fixtures/cluster-construct.ts). The other combinations of PM2's
// variables are in cluster-store.test.ts, and a real PM2 in cluster-store-pm2.test.ts.
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { msg, startFixture, type LogLine } from '../helpers/fixture-process.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

const FIXTURE = fileURLToPath(new URL('./fixtures/cluster-construct.ts', import.meta.url))
const PREFIX = 'fastify-fleet/session: ClusterStore needs the workers to be started by startCluster() of fastify-fleet/cluster, and '
const SUFFIX = '; use RedisStore (or another shared store) instead'
const PM2 = 'this process runs under PM2 cluster mode (PM2\'s daemon is the primary)'

/** Runs the fixture with `env` (over a clean slate of the variables that matter) and gives its line. */
async function construct (t: Parameters<typeof startFixture>[0] & { equal: (a: unknown, b: unknown, m: string) => unknown }, env: Record<string, string>): Promise<LogLine> {
  const child = startFixture(t, FIXTURE, { pm_id: undefined, exec_mode: undefined, FLEET_CLUSTER_WORKER: undefined, FIXTURE_FORK: undefined, ...env })
  t.equal(await child.exit, 0, 'the fixture exits with 0')
  const line = await child.waitFor((l) => l.msg === 'fixture: built' || l.msg === 'fixture: refused', 'the outcome')
  t.equal(child.lines.filter(msg(line.msg as string)).length, 1, 'one outcome')
  return line
}

test('the constructor fails fast with FST_FLEET_SESSION_CLUSTER_UNSUPPORTED where nobody keeps the sessions', async (t) => {
  const [pm2Env, foreignWorker] = await Promise.all([
    construct(t, { pm_id: '0', exec_mode: 'cluster_mode' }),
    construct(t, { FIXTURE_FORK: '1' })
  ])
  t.strictSame(pm2Env, { msg: 'fixture: refused', isWorker: false, code: 'FST_FLEET_SESSION_CLUSTER_UNSUPPORTED', message: PREFIX + PM2 + SUFFIX },
    'PM2 cluster mode in the environment')
  t.strictSame(foreignWorker, {
    msg: 'fixture: refused', isWorker: true, code: 'FST_FLEET_SESSION_CLUSTER_UNSUPPORTED', message: PREFIX + 'this worker was forked by another node:cluster primary' + SUFFIX
  }, 'a worker of a hand-written node:cluster primary')
})
