// ClusterStore under a real PM2 (a devDependency), headless, with its home in a scratch folder:
// refused in PM2's cluster mode, where PM2's daemon is the primary; working in fork mode, where PM2
// runs a startCluster() primary that forks the workers.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { test } from 'tap'
import { isAlive, type LogLine } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

const require = createRequire(import.meta.url)
const PM2_BIN = join(require.resolve('pm2/package.json'), '..', (require('pm2/package.json') as { bin: Record<string, string> }).bin.pm2 as string)
const CONSTRUCT = fileURLToPath(new URL('./fixtures/cluster-construct.ts', import.meta.url))
const FORK_APP = fileURLToPath(new URL('./fixtures/cluster-pm2-fork.ts', import.meta.url))
const run = promisify(execFile)

interface Pm2 {
  /** Runs the pm2 command line. */
  cli: (...args: string[]) => Promise<string>
  /** `pm2 start <script>` with this test's TypeScript loader, its output merged into `<dir>/<name>.log`. */
  start: (script: string, name: string, args: string[], env?: Record<string, string>) => Promise<void>
  /** The JSON lines of `<name>.log` once there are `count` that match. */
  lines: (name: string, match: (line: LogLine) => boolean, count: number) => Promise<LogLine[]>
}

/** A PM2 of its own for one test: killed (its daemon and apps) and its home removed when the test ends. */
async function pm2 (t: { teardown: (fn: () => unknown) => unknown, comment: (...args: unknown[]) => unknown }): Promise<Pm2> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-pm2-'))
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: join(dir, 'home'), TS_NODE_TRANSPILE_ONLY: '1' }
  // tap's coverage hooks stay out of PM2's daemon and the apps it runs
  delete env.NODE_OPTIONS
  delete env.NODE_V8_COVERAGE
  const nodeArgs = process.execArgv.filter((arg) => !arg.includes('processinfo')).join(' ')
  const cli = async (...args: string[]): Promise<string> => (await run(process.execPath, [PM2_BIN, ...args], { env, timeout: 60_000 })).stdout
  const pids = new Set<number>()
  t.teardown(async () => {
    await cli('kill').catch((err: Error) => t.comment(`pm2 kill: ${err.message}`))
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })
  const lines: Pm2['lines'] = async (name, match, count) => {
    let found: LogLine[] = []
    for (let waited = 0; waited < 60_000; waited += 200) {
      const text = await readFile(join(dir, `${name}.log`), 'utf8').catch(() => '')
      const all = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine)
      for (const line of all) if (typeof line.pid === 'number') pids.add(line.pid)
      found = all.filter(match)
      if (found.length >= count) return found.slice(0, count)
      await sleep(200)
    }
    throw new Error(`timed out waiting for ${count} lines in ${name}.log; found ${JSON.stringify(found)}`)
  }
  return {
    cli,
    lines,
    start: async (script, name, args, extra = {}) => {
      Object.assign(env, extra)
      await cli('start', script, '--name', name, '--interpreter', 'node', `--node-args=${nodeArgs}`, '--no-autorestart',
        '--merge-logs', '--output', join(dir, `${name}.log`), '--error', join(dir, `${name}.err.log`), ...args)
      const list = JSON.parse(await cli('jlist')) as Array<{ pid: number }>
      for (const app of list) if (app.pid > 0) pids.add(app.pid)
      pids.add(Number(await readFile(join(dir, 'home', 'pm2.pid'), 'utf8')))
    }
  }
}

test('PM2 cluster mode (pm2 start -i 2): each instance refuses ClusterStore with FST_FLEET_SESSION_CLUSTER_UNSUPPORTED', async (t) => {
  const p = await pm2(t)
  await p.start(CONSTRUCT, 'cluster-mode', ['-i', '2'])
  const lines = await p.lines('cluster-mode', (l) => l.msg?.startsWith('fixture: ') === true, 2)
  const refused = {
    msg: 'fixture: refused',
    isWorker: true,
    code: 'FST_FLEET_SESSION_CLUSTER_UNSUPPORTED',
    message: 'fastify-fleet/session: ClusterStore needs the workers to be started by startCluster() of fastify-fleet/cluster, and ' +
      'this process runs under PM2 cluster mode (PM2\'s daemon is the primary); use RedisStore (or another shared store) instead'
  }
  t.strictSame(lines, [refused, refused])
})

test('PM2 fork mode running a startCluster() primary: its workers keep their sessions in it', async (t) => {
  const p = await pm2(t)
  await p.start(FORK_APP, 'fork-mode', [], { PORT: String(await freePort()) })
  const lines = await p.lines('fork-mode', (l) => l.msg === 'fixture: worker store', 2)
  t.strictSame(lines.map(({ pid: _pid, ...rest }) => rest).sort((a, b) => a.workerId - b.workerId), [1, 2].map((workerId) => ({
    msg: 'fixture: worker store', workerId, mode: 'primary', back: { workerId }, pm_id: '0', exec_mode: 'fork_mode'
  })), 'PM2\'s variables reach the workers, which still reach their primary')
})
