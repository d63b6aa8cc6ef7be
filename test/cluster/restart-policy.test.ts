import { test } from 'tap'
import { RESTART_DEFAULTS } from '../../plugins/cluster/options.js'
import { RestartPolicy } from '../../plugins/cluster/restart-policy.js'

const delays = (policy: RestartPolicy, slot: number, uptimes: number[], start = 0, step = 10_000): Array<number | string> =>
  uptimes.map((uptime, i) => {
    const next = policy.exited(slot, uptime, start + i * step)
    return 'delay' in next ? next.delay : next.crashLoop
  })

test('the delay grows ×1.5 from 100 ms up to 15 s per slot', async (t) => {
  const policy = new RestartPolicy({ ...RESTART_DEFAULTS, maxRestarts: 100, window: 1 })
  t.strictSame(delays(policy, 0, Array(14).fill(5000)), [100, 150, 225, 338, 507, 761, 1142, 1713, 2570, 3855, 5783, 8675, 13013, 15000])
  t.strictSame(delays(policy, 1, [5000, 5000]), [100, 150], 'another slot has its own delay')
})

test('a worker up resetAfter (30 s) resets its slot to the first delay', async (t) => {
  const policy = new RestartPolicy({ ...RESTART_DEFAULTS, maxRestarts: 100, window: 1 })
  t.strictSame(delays(policy, 0, [5000, 5000, 5000, 30_000, 5000]), [100, 150, 225, 100, 150])
})

test('more than maxRestarts unexpected exits within the window is a crash loop', async (t) => {
  const policy = new RestartPolicy({ ...RESTART_DEFAULTS, maxRestarts: 3, window: 60_000 })
  const answers = delays(policy, 0, [5000, 5000, 5000, 5000], 0, 1000)
  t.strictSame(answers.slice(0, 3), [100, 150, 225])
  t.equal(answers[3], '4 workers exited unexpectedly within 60000 ms (restart.maxRestarts: 3)')
})

test('exits spread wider than the window are not a crash loop', async (t) => {
  const policy = new RestartPolicy({ ...RESTART_DEFAULTS, maxRestarts: 2, window: 10_000, resetAfter: 1_000_000 })
  t.strictSame(delays(policy, 0, [5000, 5000, 5000, 5000], 0, 6000), [100, 150, 225, 338])
})

test('maxRestarts workers in a row dying before minUptime is a crash loop; one that lived breaks the row', async (t) => {
  const policy = new RestartPolicy({ ...RESTART_DEFAULTS, maxRestarts: 3, window: 1, minUptime: 1000 })
  t.strictSame(delays(policy, 0, [10, 10, 2000, 10, 10]), [100, 150, 225, 338, 507])
  t.equal(delays(policy, 0, [10], 100_000)[0], '3 workers in a row exited less than 1000 ms after they started (restart.minUptime)')
})
