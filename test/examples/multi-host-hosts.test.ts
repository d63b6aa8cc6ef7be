// AppHosts (examples/multi-host/hosts.ts) with stand-in hosts: small Node scripts that print the
// lines a host's primary prints, so restarts, failed starts and rolling restarts are quick to drive.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type Test } from 'tap'
import { AppHosts, type AppHostsOptions } from '../../examples/multi-host/hosts.js'
import { waitGone } from '../helpers/fixture-process.js'

/**
 * A host: counts its starts in DIR; the starts listed in FAIL (1-based, comma-separated) exit with
 * code 1 at once, the others print `listening` and WORKERS × `worker ready` (after 5 s for the starts
 * listed in SLOW). SIGHUP: `rolling
 * restart done` after 50 ms (never with MUTE_HUP=1). SIGTERM: exit 0 after 20 ms. SILENT=1: prints
 * nothing (never listens).
 */
const HOST_SCRIPT = `
const fs = require('node:fs')
const n = fs.readdirSync(process.env.DIR).length + 1
fs.writeFileSync(process.env.DIR + '/' + process.env.NAME + '-' + n + '-' + process.pid, '')
const say = (msg, extra) => console.log(JSON.stringify({ msg, ...extra }))
if ((process.env.FAIL || '').split(',').includes(String(n))) { say('cannot listen'); process.exit(1) }
const slow = (process.env.SLOW || '').split(',').includes(String(n))
setInterval(() => {}, 1000)
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 20))
process.on('SIGHUP', () => { if (process.env.MUTE_HUP !== '1') setTimeout(() => say('rolling restart done', { replaced: 2 }), 50) })
if (process.env.SILENT !== '1') {
  setTimeout(() => {
    say('listening')
    for (let i = 0; i < Number(process.env.WORKERS); i++) say('worker ready')
  }, slow ? 5000 : 0)
}
`

interface Logged { msg: string, [key: string]: unknown }

async function hostsOf (t: Test, names: string[], env: Record<string, string> = {}, opts: Partial<AppHostsOptions> = {}): Promise<{ hosts: AppHosts, logged: Logged[], dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-app-hosts-'))
  const logged: Logged[] = []
  const workers = opts.workers ?? 2
  const hosts = new AppHosts(
    names.map((name) => ({ name, env: { ...process.env, DIR: dir, NAME: name, WORKERS: String(workers), ...env } })),
    { command: process.execPath, args: ['-e', HOST_SCRIPT], workers, log: (msg, extra = {}) => { logged.push({ msg, ...extra }) }, startTimeout: 10_000, restartDelay: 20, ...opts }
  )
  t.teardown(async () => {
    await hosts.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return { hosts, logged, dir }
}

/** Resolves once a logged line matches (polls; bounded). */
async function logOf (logged: Logged[], msg: string, count = 1, ms = 15_000): Promise<Logged[]> {
  const deadline = Date.now() + ms
  while (logged.filter((l) => l.msg === msg).length < count) {
    if (Date.now() > deadline) throw new Error(`no "${msg}" ×${count} within ${ms} ms: ${JSON.stringify(logged)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return logged.filter((l) => l.msg === msg)
}

test('a host that exits is started again; a failed start is tried again later, with a longer wait', async (t) => {
  // the third start (a's first restart) fails, the fourth succeeds
  const { hosts, logged, dir } = await hostsOf(t, ['a', 'b'], { FAIL: '3' })
  await hosts.start()
  t.same(hosts.processes.map((p) => p.name), ['a', 'b'])
  t.same(logged.filter((l) => l.host === 'a').map((l) => l.msg), ['listening', 'worker ready', 'worker ready'], 'every line a host prints is logged with its host')
  const [a] = hosts.processes
  process.kill(a?.pid as number, 'SIGKILL')
  const [exited] = await logOf(logged, 'a exited')
  t.match(exited, { name: 'a', processPid: a?.pid, code: 'SIGKILL' })
  const [failed] = await logOf(logged, 'a restart failed')
  t.match(failed, { name: 'a', retryIn: 40 })
  t.match(failed?.err, /a exited before listening/)
  const [restarted] = await logOf(logged, 'a restarted')
  t.not(restarted?.processPid, a?.pid)
  t.equal(hosts.processes[0]?.pid, restarted?.processPid, 'processes lists the new one')
  t.equal((await readdir(dir)).length, 4, 'four starts: two, a failed one, and the restart')
  t.equal(logged.filter((l) => l.msg === 'a exited').length, 1, 'a failed start is not also reported as an exit')
})

test('start(): rejects when a host exits before listening, or does not listen in time (then it is stopped)', async (t) => {
  const exits = await hostsOf(t, ['a'], { FAIL: '1' })
  await t.rejects(exits.hosts.start(), /a exited before listening/)
  const silent = await hostsOf(t, ['s'], { SILENT: '1' }, { startTimeout: 300 })
  const started = silent.hosts.start()
  await t.rejects(started, /s: no listening within 300 ms/)
  t.ok(await waitGone(silent.hosts.processes[0]?.pid as number, 5000), 'the host that did not listen is stopped')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk(silent.logged.some((l) => l.msg === 's exited'), 'and not started again')
})

test('reload(): SIGHUP to each host in turn, the next once the first is done; one at a time', async (t) => {
  const { hosts, logged } = await hostsOf(t, ['a', 'b'])
  await hosts.start()
  const [one, two] = [hosts.reload(), hosts.reload()]
  await Promise.all([one, two])
  t.same(logged.filter((l) => /rolling restart/.test(l.msg)).map((l) => [l.msg, l.host]), [
    ['rolling restart of the hosts', undefined],
    ['rolling restart done', 'a'],
    ['rolling restart done', 'b'],
    ['rolling restart of the hosts done', undefined]
  ], 'a second call during a reload joins it')
  await hosts.reload()
  t.equal(logged.filter((l) => l.msg === 'rolling restart done').length, 4, 'a later call restarts them again')
})

test('reload(): a host that does not finish is logged; one that is down is skipped; WORKERS=1 is not restarted', async (t) => {
  // a long start-up wait (a loaded machine may be slow to start the host), a short reload wait
  const mute = await hostsOf(t, ['m'], { MUTE_HUP: '1' }, { reloadTimeout: 300 })
  await mute.hosts.start()
  await mute.hosts.reload()
  t.match(mute.logged.find((l) => l.msg === 'm: rolling restart not done'), { err: /m: no rolling restart done within 300 ms/ })

  const down = await hostsOf(t, ['d', 'e'], {}, { restartDelay: 5000 })
  await down.hosts.start()
  const d = down.hosts.processes[0]?.pid as number
  process.kill(d, 'SIGKILL')
  await logOf(down.logged, 'd exited')
  await down.hosts.reload()
  t.same(down.logged.filter((l) => l.msg === 'rolling restart done').map((l) => l.host), ['e'], 'the host that is down is skipped')
  await down.hosts.stop()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk(down.logged.some((l) => l.msg === 'd restarted'), 'a restart that was waiting does not happen once stopping')

  const single = await hostsOf(t, ['s'], {}, { workers: 1 })
  await single.hosts.start()
  await single.hosts.reload()
  t.same(single.logged.filter((l) => l.host === undefined).map((l) => l.msg), ['SIGHUP ignored: a rolling restart needs WORKERS=2 or more on each host'], 'no SIGHUP sent')
  t.notOk(single.logged.some((l) => l.msg === 'rolling restart done'))
})

test('stop(): every host stops, none is started again; a reload during stop leaves the rest', async (t) => {
  const { hosts, logged } = await hostsOf(t, ['a', 'b'], { MUTE_HUP: '1' }, { startTimeout: 5000 })
  await hosts.start()
  const pids = hosts.processes.map((p) => p.pid)
  const reloading = hosts.reload()
  await logOf(logged, 'rolling restart of the hosts')
  await hosts.stop()
  await reloading
  for (const pid of pids) t.ok(await waitGone(pid, 5000))
  t.notOk(logged.some((l) => / exited$| restarted$/.test(l.msg)), 'no exit reported, nothing started again')
  t.same(logged.filter((l) => /rolling restart/.test(l.msg)).map((l) => l.msg), [
    'rolling restart of the hosts', 'a: rolling restart not done', 'rolling restart of the hosts done'
  ], 'b is not signalled once stopping')
})

test('stop() while a host is being started: it is stopped too, and not started again', async (t) => {
  const early = await hostsOf(t, ['a'])
  const starting = early.hosts.start()
  await early.hosts.stop()
  await t.rejects(starting, /a: stopping/, 'stop() came while it was spawned')
  t.ok(await waitGone(early.hosts.processes[0]?.pid as number, 5000))

  // the second start (a's restart) is slow to listen: stop() comes while it waits
  const late = await hostsOf(t, ['b'], { SLOW: '2' })
  await late.hosts.start()
  process.kill(late.hosts.processes[0]?.pid as number, 'SIGKILL')
  await logOf(late.logged, 'b exited')
  // until the restart is spawned (its pid in processes), then stop
  const first = late.hosts.processes[0]?.pid
  for (let i = 0; i < 500 && late.hosts.processes[0]?.pid === first; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  const restarting = late.hosts.processes[0]?.pid as number
  t.not(restarting, first)
  await late.hosts.stop()
  t.ok(await waitGone(restarting, 5000))
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk(late.logged.some((l) => / restarted$| restart failed$/.test(l.msg)), 'no restart reported, none tried again')
})
