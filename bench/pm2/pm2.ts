// A PM2 of the bench's own: its home (PM2_HOME) in a fresh temporary folder, never the user's ~/.pm2,
// running the cluster scenarios' app (`pm2/app.ts`) in cluster mode from an ecosystem file written
// there. `kill()` stops its daemon and the daemon's instances (SIGKILL, by pid) and removes the
// folder; it is synchronous so that an `exit` handler can run it.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { readProcStats } from '../lib/process-cpu.js'
import { childPids, ecosystemFile, parseJlist, type Pm2Process } from './ecosystem.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
const pkg = require('pm2/package.json') as { version: string, bin: Record<string, string> }
/** The pm2 command line of the devDependency. */
const PM2_BIN = join(dirname(require.resolve('pm2/package.json')), pkg.bin.pm2!)
export const PM2_VERSION = `pm2 ${pkg.version}`

/** The compiled instance entry point. */
const APP = fileURLToPath(new URL('./app.js', import.meta.url))

export interface Pm2Cluster {
  /** The app's name in PM2. */
  name: string
  /** Its instances. */
  instances: number
  /** The port they listen on. */
  port: number
  /** The temporary folder: PM2_HOME (`home/`), the ecosystem file and the logs. */
  dir: string
  /** Runs the pm2 command line on this PM2_HOME; resolves with its standard output. */
  cli: (...args: string[]) => Promise<string>
  /** `pm2 start ecosystem.config.cjs`: resolves once every instance said `ready` (`wait_ready`). */
  start: () => Promise<void>
  /** The daemon's pid (from `home/pm2.pid`), `null` before it runs. */
  daemonPid: () => number | null
  /** The pids of the daemon's children: the instances. */
  instancePids: () => number[]
  /** `pm2 jlist`. */
  list: () => Promise<Pm2Process[]>
  /** Stops the daemon and its instances (SIGKILL) and removes the folder; safe to call more than once. */
  kill: () => void
}

/** Whether `pid` is this PM2's daemon (its environment names its home), so a recycled pid is never killed. */
function isDaemon (pid: number, home: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`PM2_HOME=${home}`)
  } catch {
    return false
  }
}

/**
 * A PM2 of its own (nothing runs yet) for `instances` instances of the app on `port`, each started
 * with the Node.js flags `nodeArgs`, in a new temporary folder. The pm2 command line gets this
 * process's environment without `NODE_ENV` (the app runs on the development certificate) and
 * without `NODE_OPTIONS`.
 */
export function pm2Cluster ({ name = 'fleet-bench', instances = 2, port, nodeArgs = [] }: { name?: string, instances?: number, port: number, nodeArgs?: readonly string[] }): Pm2Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-pm2-'))
  const home = join(dir, 'home')
  const ecosystem = join(dir, 'ecosystem.config.cjs')
  writeFileSync(ecosystem, ecosystemFile({ name, script: APP, instances, port, logDir: dir, nodeArgs }))
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: home, PM2_DISCRETE_MODE: 'true' }
  delete env.NODE_ENV
  delete env.NODE_OPTIONS
  delete env.NODE_V8_COVERAGE

  const cli = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, [PM2_BIN, ...args], { env, timeout: 60_000, killSignal: 'SIGKILL' })).stdout
  const daemonPid = (): number | null => {
    try {
      const pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8'))
      return Number.isInteger(pid) && pid > 0 && isDaemon(pid, home) ? pid : null
    } catch {
      return null
    }
  }
  const instancePids = (): number[] => {
    const pid = daemonPid()
    return pid === null ? [] : childPids(pid, readProcStats() ?? [])
  }
  let killed = false
  return {
    name,
    instances,
    port,
    dir,
    cli,
    start: async () => { await cli('start', ecosystem) },
    daemonPid,
    instancePids,
    list: async () => parseJlist(await cli('jlist')),
    kill: () => {
      if (killed) return
      killed = true
      const daemon = daemonPid()
      for (const pid of daemon === null ? [] : [...instancePids(), daemon]) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {} // gone already
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The log of the instances' standard error so far (its end), to say why they did not start. */
export function errorLog (cluster: Pm2Cluster): string {
  try {
    return readFileSync(join(cluster.dir, `${cluster.name}.err.log`), 'utf8').trim().split('\n').slice(-5).join('\n')
  } catch {
    return ''
  }
}
