// The pure parts of running the bench's app under PM2: the ecosystem file, `pm2 jlist` read back, and
// what `/proc` says of the processes (resident memory, children). No I/O.

/** What to run under PM2. */
export interface Pm2AppOptions {
  /** The app's name in PM2 (`pm2 reload <name>`). */
  name: string
  /** The compiled entry point of one instance (`dist/bench/pm2/app.js`). */
  script: string
  /** PM2 cluster-mode instances (the workers of the PM2 daemon). */
  instances: number
  /** The port every instance listens on, fixed up front (PM2's daemon is the cluster primary). */
  port: number
  /** Where the instances' logs go. */
  logDir: string
  /** Node.js and V8 flags of every instance (PM2's `node_args`). @default [] */
  nodeArgs?: readonly string[]
}

/**
 * PM2's graceful start/shutdown settings, as its documentation recommends them: the instance says
 * `ready` once it listens (`wait_ready`), PM2 waits up to `listen_timeout` ms for it (its default,
 * 3 s, is short for an app that loads a TLS certificate on a busy machine) and gives a stopping
 * instance `kill_timeout` ms after SIGINT before SIGKILL (its default is 1.6 s; the guide's example
 * raises it to 3 s).
 */
export const PM2_GRACEFUL = { wait_ready: true, listen_timeout: 10_000, kill_timeout: 3000 } as const

/** The ecosystem file's `apps` entry: PM2 cluster mode, the graceful settings, PM2's defaults otherwise. */
export function ecosystemApp (opts: Pm2AppOptions): Record<string, unknown> {
  return {
    name: opts.name,
    script: opts.script,
    exec_mode: 'cluster',
    instances: opts.instances,
    ...PM2_GRACEFUL,
    merge_logs: true,
    out_file: `${opts.logDir}/${opts.name}.out.log`,
    error_file: `${opts.logDir}/${opts.name}.err.log`,
    env: { PORT: String(opts.port) },
    ...(opts.nodeArgs === undefined || opts.nodeArgs.length === 0 ? {} : { node_args: [...opts.nodeArgs] })
  }
}

/** The text of `ecosystem.config.cjs` for `opts`. */
export function ecosystemFile (opts: Pm2AppOptions): string {
  return `module.exports = ${JSON.stringify({ apps: [ecosystemApp(opts)] }, null, 2)}\n`
}

/** One process of `pm2 jlist`. */
export interface Pm2Process {
  name: string
  pmId: number
  pid: number
  status: string
}

/** `pm2 jlist`'s output read back: its line holding the JSON array, whatever PM2 may print around it (`[PM2] …`). */
export function parseJlist (text: string): Pm2Process[] {
  const line = text.split('\n').find((l) => /^\[(\{|\])/.test(l.trim()))
  if (line === undefined) throw new Error(`pm2 jlist printed no list: ${text.trim().slice(0, 200)}`)
  const list = JSON.parse(line) as Array<{ name?: unknown, pm_id?: unknown, pid?: unknown, pm2_env?: { status?: unknown } }>
  return list.map((p) => ({ name: String(p.name), pmId: Number(p.pm_id), pid: Number(p.pid), status: String(p.pm2_env?.status) }))
}

/** The resident set size in bytes from the text of `/proc/<pid>/status` (`VmRSS: 51200 kB`); `null` without one. */
export function parseRss (status: string): number | null {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  return match === null ? null : Number(match[1]) * 1024
}

/** The pids of `pid`'s children among `stats` (from `readProcStats()`), ascending. */
export function childPids (pid: number, stats: ReadonlyArray<{ pid: number, ppid: number }>): number[] {
  return stats.filter((s) => s.ppid === pid).map((s) => s.pid).sort((a, b) => a - b)
}
