import { setTimeout as sleep } from 'node:timers/promises'
import { ManagedProcess, type ChildLine } from './processes.js'

/** The launcher's log: one JSON object a line. */
export type Log = (msg: string, extra?: Record<string, unknown>) => void

/** One app host: its name and the environment of its process. */
export interface HostSpec {
  name: string
  env: NodeJS.ProcessEnv
}

export interface AppHostsOptions {
  /** The executable and its arguments (the demo app under this process's Node and flags). */
  command: string
  args: string[]
  /** Workers per host: start-up waits for them all, and a rolling restart needs two or more. */
  workers: number
  log: Log
  /** How long a host may take to listen (ms). */
  startTimeout: number
  /** The wait before a host that exited is started again, doubled after each failed start up to 30 s (ms). */
  restartDelay?: number
  /** How long one host's rolling restart may take before the next host's begins (ms); `startTimeout` × `workers` by default. */
  reloadTimeout?: number
}

const MAX_RESTART_DELAY = 30_000

/**
 * The app hosts of the example, as a service manager would run them on their machines: a host that
 * exits while the example runs (a crash, `kill -9` of its primary) is started again, and
 * `reload()` restarts each host's workers in turn (SIGHUP to its primary, a rolling restart), so
 * that a load balancer always has hosts to send requests to. Every line a host prints is logged
 * with its `host`.
 */
export class AppHosts {
  readonly #specs: HostSpec[]
  readonly #opts: Required<AppHostsOptions>
  readonly #current = new Map<string, ManagedProcess>()
  // the processes that started (listening, workers ready): only their exit starts them again
  readonly #up = new WeakSet<ManagedProcess>()
  #stopping = false
  #reloading: Promise<void> | null = null
  // starts under way: stop() waits for them, so that none outlives it
  readonly #starting = new Set<Promise<unknown>>()

  constructor (specs: HostSpec[], opts: AppHostsOptions) {
    this.#specs = specs
    this.#opts = { restartDelay: 1000, reloadTimeout: opts.startTimeout * opts.workers, ...opts }
  }

  /** The running process of each host, in the order of the specs. */
  get processes (): ManagedProcess[] {
    return this.#specs.map((s) => this.#current.get(s.name)).filter((p) => p !== undefined)
  }

  /** Starts every host; resolves once each listens with all its workers ready, rejects when one does not. */
  async start (): Promise<void> {
    await Promise.all(this.#specs.map(async (spec) => { await this.#startOne(spec) }))
  }

  async #startOne (spec: HostSpec): Promise<ManagedProcess> {
    const started = this.#spawn(spec)
    this.#starting.add(started)
    try {
      return await started
    } finally {
      this.#starting.delete(started)
    }
  }

  async #spawn (spec: HostSpec): Promise<ManagedProcess> {
    const { command, args, log, workers, startTimeout } = this.#opts
    const host = await ManagedProcess.start(spec.name, command, args, {
      env: spec.env,
      onLine: ({ msg, ...rest }: ChildLine) => { log(String(msg), { ...rest, host: spec.name }) }
    })
    this.#current.set(spec.name, host)
    if (this.#stopping) {
      // stop() came while it was being spawned
      await host.stop()
      throw new Error(`${spec.name}: stopping`)
    }
    host.exited.then((code) => { this.#exited(spec, host, code) })
    try {
      await host.waitForLines((l) => l.msg === 'listening', 1, 'listening', startTimeout)
      // with a cluster, every worker: round-robin should reach them all from the first request
      await host.waitForLines((l) => l.msg === 'worker ready', workers > 1 ? workers : 0, `${workers} workers ready`, startTimeout)
    } catch (err) {
      await host.stop()
      throw err
    }
    this.#up.add(host)
    return host
  }

  /** A host that had started ended: unless the hosts are stopping, it is started again. */
  #exited (spec: HostSpec, host: ManagedProcess, code: number | string): void {
    if (this.#stopping || !this.#up.has(host)) return
    this.#opts.log(`${spec.name} exited`, { name: spec.name, processPid: host.pid, code })
    this.#restart(spec, this.#opts.restartDelay)
  }

  #restart (spec: HostSpec, delay: number): void {
    sleep(delay).then(async () => {
      if (this.#stopping) return
      const host = await this.#startOne(spec)
      this.#opts.log(`${spec.name} restarted`, { name: spec.name, processPid: host.pid })
    }).catch((err: Error) => {
      if (this.#stopping) return // stopped while it was starting
      // it did not start (its port still taken, its store refusing in production...): try later
      const next = Math.min(delay * 2, MAX_RESTART_DELAY)
      this.#opts.log(`${spec.name} restart failed`, { name: spec.name, err: err.message, retryIn: next })
      this.#restart(spec, next)
    })
  }

  /**
   * A rolling restart of every host in turn: SIGHUP to its primary, then the next host once its
   * primary logged `rolling restart done`. With one worker a host cannot restart without a gap,
   * so it is left as it is (and the log says so).
   */
  async reload (): Promise<void> {
    this.#reloading ??= (async () => {
      const { log, workers, reloadTimeout } = this.#opts
      if (workers < 2) {
        log('SIGHUP ignored: a rolling restart needs WORKERS=2 or more on each host')
        return
      }
      log('rolling restart of the hosts', { hosts: this.#specs.map((s) => s.name) })
      for (const spec of this.#specs) {
        const host = this.#current.get(spec.name) as ManagedProcess
        // one that is down or starting again has new workers already
        if (this.#stopping || !this.#up.has(host) || !host.running) continue
        const done = (l: ChildLine): boolean => l.msg === 'rolling restart done'
        const before = host.lines.filter(done).length
        host.child.kill('SIGHUP')
        await host.waitForLines(done, before + 1, 'rolling restart done', reloadTimeout).catch((err: Error) => {
          log(`${spec.name}: rolling restart not done`, { err: err.message })
        })
      }
      log('rolling restart of the hosts done')
    })().finally(() => { this.#reloading = null })
    await this.#reloading
  }

  /** Stops every host (SIGTERM: each drains), starts none again; resolves once all are gone. */
  async stop (): Promise<void> {
    this.#stopping = true
    await Promise.all([...this.#current.values()].map(async (p) => await p.stop()))
    await Promise.allSettled(this.#starting)
  }
}
