// The conformance suite run by ClusterStore in real cluster workers, against the sessions their
// startCluster() primary keeps (test/session/fixtures/cluster-sessions.ts).
import t, { test } from 'tap'
import { startSessions, stopSessions } from '../helpers/cluster-sessions.js'
import { msg } from '../helpers/fixture-process.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

test('every worker passes the conformance suite against the primary', async (t) => {
  const { cluster, workers } = await startSessions(t)
  // one worker after the other: the timeout case keeps the primary busy on purpose
  for (const w of workers) {
    cluster.command({ cmd: 'conformance', to: w.id })
    const summary = await cluster.waitFor(msg('fixture: conformance', { workerId: w.id }), `the suite in worker ${w.id}`, 90_000)
    t.equal(summary.error, undefined, 'the worker answered')
    t.equal(summary.mode, 'primary', 'the sessions live in the primary')
    const results = summary.results as Array<{ name: string, skip?: string, assertions?: number, failures?: string[] }>
    t.equal(results.length, 27, 'every case')
    t.strictSame(results.filter((r) => r.skip !== undefined).map((r) => [r.name, r.skip]), [
      ['a failing backend fails every call with a coded error, never a crash', 'needs the failingStore option'],
      ['a failing backend opens the circuit breaker: calls are refused at once, and a probe goes through after the cooldown', 'needs the failingStore option'],
      ['app: a failing store gives 5xx answers, and the app keeps serving', 'needs the failingStore option']
    ], 'only the failing-backend cases are skipped: a primary that answers does not fail')
    const ran = results.filter((r) => r.skip === undefined)
    t.equal(ran.length, 24)
    t.strictSame(ran.filter((r) => (r.failures ?? []).length > 0), [], `worker ${w.id}: no failures`)
    t.strictSame(ran.filter((r) => (r.assertions ?? 0) === 0).map((r) => r.name), [], 'each case asserted something')
    t.ok(ran.some((r) => r.name === 'a backend that does not answer fails with a timeout'), 'the timeout case ran, against a busy primary')
  }
  await stopSessions(t, cluster)
})
