import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { parseProcStat, processTreeCpu, readProcStats, treeCpuSeconds } from '../../bench/lib/process-cpu.js'

const line = (pid: number, comm: string, ppid: number, utime: number, stime: number, cutime = 0, cstime = 0): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 11 0 5000 1000 100\n`

test('parseProcStat', async (t) => {
  t.strictSame(parseProcStat(line(42, 'node', 1, 250, 30, 6, 1)), { pid: 42, ppid: 1, ticks: 280, endedTicks: 7 })
  t.strictSame(parseProcStat(line(43, 'a (weird) name', 42, 1, 2)), { pid: 43, ppid: 42, ticks: 3, endedTicks: 0 }, 'a command name with spaces and parentheses')
  t.equal(parseProcStat('garbage'), null, 'no command name')
  t.equal(parseProcStat('12 (x) S'), null, 'too few fields')
  t.equal(parseProcStat(line(0, 'x', 1, 1, 1)), null, 'no pid')
})

test('treeCpuSeconds sums a process and everything below it', async (t) => {
  const stats = [
    { pid: 1, ppid: 0, ticks: 1000, endedTicks: 0 },
    { pid: 10, ppid: 1, ticks: 200, endedTicks: 40 }, // the server, with 40 ticks of ended children
    { pid: 11, ppid: 10, ticks: 300, endedTicks: 9 }, // a worker
    { pid: 12, ppid: 10, ticks: 50, endedTicks: 0 }, // another
    { pid: 13, ppid: 11, ticks: 7, endedTicks: 0 }, // a worker's child
    { pid: 20, ppid: 1, ticks: 999, endedTicks: 0 } // not below it
  ]
  t.equal(treeCpuSeconds(10, stats), 5.57)
  t.equal(treeCpuSeconds(10, stats, true), 5.97, 'with the ended children of the process itself')
  t.equal(treeCpuSeconds(12, stats), 0.5, 'a leaf')
  t.equal(treeCpuSeconds(99, stats), null, 'not there')
})

test('readProcStats reads a proc directory, leaving out what is not a process', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-proc-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, '7'))
  await writeFile(join(dir, '7', 'stat'), line(7, 'node', 1, 10, 5))
  await mkdir(join(dir, '8')) // exited: no stat file
  await mkdir(join(dir, '9'))
  await writeFile(join(dir, '9', 'stat'), 'not a stat line')
  await writeFile(join(dir, 'uptime'), '1 2')
  t.strictSame(readProcStats(dir), [{ pid: 7, ppid: 1, ticks: 15, endedTicks: 0 }])
  t.equal(readProcStats(join(dir, 'missing')), null, 'no proc directory')
  t.equal(processTreeCpu(7, dir), 0.15)
  t.equal(processTreeCpu(7, dir, true), 0.15)
  t.equal(processTreeCpu(7, join(dir, 'missing')), null)
})

test('processTreeCpu counts a busy child', { skip: process.platform === 'linux' ? false : 'needs /proc (Linux)' }, async (t) => {
  // busy for up to 10 s; on a loaded machine it may get little CPU at first, so the test waits
  // (at most 5 s) until 0.1 s of its CPU shows, rather than for a fixed time
  const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 10_000; while (Date.now() < end);'], { stdio: 'ignore' })
  await once(child, 'spawn')
  const during = processTreeCpu(process.pid)
  t.ok(during !== null && during > 0, 'this process has used CPU')
  let withChild = processTreeCpu(process.pid)
  for (let i = 0; i < 100 && (withChild as number) - (during as number) < 0.1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    withChild = processTreeCpu(process.pid)
  }
  t.ok(withChild !== null && withChild - during! >= 0.1, `the child's CPU counts (${String(during)} s, then ${String(withChild)} s)`)
  child.kill('SIGKILL')
  await once(child, 'exit')
  t.equal(processTreeCpu(2 ** 22 + 1), null, 'a pid that does not run')
})
