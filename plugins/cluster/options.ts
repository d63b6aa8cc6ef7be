import { availableParallelism } from 'node:os'
import type { FastifyInstance } from 'fastify'
import { isObject, optionKit, show, type OptionKit } from '../internal/option-kit.js'
import { FST_FLEET_CLUSTER_INVALID_OPTION } from './errors.js'
import { ENV } from './names.js'

/** A pino-style logger (`logger.info(obj, msg)`); Fastify's `app.log` fits. */
export interface ClusterLogger {
  info: (obj: Record<string, unknown>, msg: string) => void
  warn: (obj: Record<string, unknown>, msg: string) => void
  error: (obj: Record<string, unknown>, msg: string) => void
}

/** A Fastify instance of any server kind (HTTP/2, HTTPS, HTTP). */
export type AnyFastifyInstance = FastifyInstance<any, any, any, any, any>

/** What `build` receives. */
export interface BuildContext<S = undefined> {
  /** This worker's `cluster.worker.id`; `0` in a single process. */
  workerId: number
  /** What `primary` resolved to in the primary (a copy, over IPC); `undefined` without `primary`. */
  shared: S
}

/** Restart policy of workers that die unexpectedly. */
export interface RestartOptions {
  /**
   * Milliseconds before the first replacement of a worker.
   * @default 100
   */
  initialDelay?: number
  /**
   * Each further replacement in the same slot waits this many times longer.
   * @default 1.5
   */
  factor?: number
  /**
   * Longest wait before a replacement, in milliseconds.
   * @default 15000
   */
  maxDelay?: number
  /**
   * A worker up this long (ms) resets its slot's delay to `initialDelay`.
   * @default 30000
   */
  resetAfter?: number
  /**
   * Crash loop: more than this many unexpected exits within `window`, or this many workers in a row
   * exiting before `minUptime`, stop the cluster.
   * @default 10
   */
  maxRestarts?: number
  /**
   * The window of `maxRestarts`, in milliseconds.
   * @default 60000
   */
  window?: number
  /**
   * A worker that exits sooner than this (ms) after it was forked counts towards a crash loop.
   * @default 1000
   */
  minUptime?: number
}

/** Options of `startCluster()`; `S`: what `primary` resolves to. */
export interface StartClusterOptions<S = undefined> {
  /**
   * Runs once in the primary (or the single process) before any worker starts: open what belongs
   * to the machine rather than to a worker (a redirect listener; close it in `onStop`), make what
   * every worker must share (a session secret). What it resolves to reaches every worker's `build`
   * as `shared`, over IPC (so as JSON: plain objects, arrays, strings, numbers, booleans, null),
   * never through the environment. A rejection rejects `startCluster()`, before any fork.
   * @default undefined
   */
  primary?: () => S | Promise<S>
  /** Builds the worker's app (called in each worker, or once in a single process). */
  build: (context: BuildContext<S>) => AnyFastifyInstance | Promise<AnyFastifyInstance>
  /**
   * Where the app listens (passed to `app.listen()`).
   * @default { port: 3000, host: '127.0.0.1' }
   */
  listen?: { port?: number, host?: string }
  /**
   * Number of workers; `1` (or `FLEET_CLUSTER=0` in the environment) runs the app in this process.
   * @default os.availableParallelism()
   */
  workers?: number
  /**
   * Milliseconds a draining worker has to finish what is in flight before its connections are
   * destroyed; the primary kills workers still alive one second later.
   * @default 10000
   */
  shutdownTimeout?: number
  /**
   * Milliseconds a new worker has to build, listen and say it is ready.
   * @default 10000
   */
  readyTimeout?: number
  /**
   * Milliseconds between the primary's heartbeats to each worker.
   * @default 1000
   */
  heartbeatInterval?: number
  /**
   * A worker that has not answered a heartbeat for this long (its event loop is blocked) is killed
   * and replaced.
   * @default 10000
   */
  heartbeatTimeout?: number
  /** Restart policy; see `RestartOptions`. */
  restart?: RestartOptions
  /**
   * Extra environment variables of the workers.
   * @default {}
   */
  env?: Record<string, string>
  /**
   * Extra Node.js and V8 flags of the workers, after the primary's own `process.execArgv` (which
   * node:cluster passes on to every worker anyway), so a later flag wins: `['--max-old-space-size=512']`.
   * Every worker gets them, replacements included. A flag Node.js refuses makes each worker exit as
   * it starts, which stops the cluster as a crash loop. A single process (`workers: 1`) is already
   * running: start it with the flags instead.
   * @default []
   */
  execArgv?: readonly string[]
  /**
   * Handle SIGTERM/SIGINT (drain, then exit) and SIGHUP (rolling restart), and exit the process
   * when the cluster stops. `false` leaves signals and the exit to you (`handle.stop()`).
   * @default true
   */
  signals?: boolean
  /**
   * Runs in the primary (or the single process) after the workers are gone and before the exit:
   * close what the primary opened (e.g. a redirect listener).
   * @default undefined
   */
  onStop?: () => void | Promise<void>
  /**
   * Where the primary logs the workers' states.
   * @default JSON lines on standard output
   */
  logger?: ClusterLogger
}

export const RESTART_DEFAULTS = {
  initialDelay: 100,
  factor: 1.5,
  maxDelay: 15000,
  resetAfter: 30000,
  maxRestarts: 10,
  window: 60000,
  minUptime: 1000
} as const satisfies Required<RestartOptions>

export const DEFAULTS = {
  listen: { port: 3000, host: '127.0.0.1' },
  shutdownTimeout: 10000,
  readyTimeout: 10000,
  heartbeatInterval: 1000,
  heartbeatTimeout: 10000,
  env: {},
  execArgv: [],
  signals: true
} as const satisfies Partial<StartClusterOptions>

export interface NormalizedClusterOptions {
  primary: () => unknown
  build: (context: BuildContext<unknown>) => AnyFastifyInstance | Promise<AnyFastifyInstance>
  listen: { port: number, host: string }
  workers: number
  inProcess: boolean
  shutdownTimeout: number
  readyTimeout: number
  heartbeatInterval: number
  heartbeatTimeout: number
  restart: Required<RestartOptions>
  env: Record<string, string>
  execArgv: string[]
  signals: boolean
  onStop: () => void | Promise<void>
  logger: ClusterLogger
}

/** The option checks of fastify-fleet/cluster, failing with `FST_FLEET_CLUSTER_INVALID_OPTION`. */
export const check: OptionKit = optionKit((name, reason) => { throw new FST_FLEET_CLUSTER_INVALID_OPTION(name, reason) })

/** Milliseconds, as `setTimeout()` takes them (it turns longer delays into 1 ms). */
export const ms = (name: string, value: unknown, fallback: number, min: number): number =>
  check.number(name, value, fallback, { min, max: 2 ** 31 - 1, integer: true })

/** The default logger: one JSON line per event on standard output (pino's level numbers). */
export function jsonLogger (write: (line: string) => void = (line) => { process.stdout.write(line) }): ClusterLogger {
  const line = (level: number) => (obj: Record<string, unknown>, msg: string): void => {
    write(JSON.stringify({ level, time: Date.now(), pid: process.pid, ...obj, msg }) + '\n')
  }
  return { info: line(30), warn: line(40), error: line(50) }
}

const OPTION_KEYS = ['primary', 'build', 'listen', 'workers', 'shutdownTimeout', 'readyTimeout', 'heartbeatInterval', 'heartbeatTimeout', 'restart', 'env', 'execArgv', 'signals', 'onStop', 'logger']

/** Validates `startCluster()`'s options (never touching the caller's object). */
export function normalizeOptions (input: unknown, env: NodeJS.ProcessEnv = process.env): NormalizedClusterOptions {
  const options = check.object('options', input)
  check.known(options, OPTION_KEYS)
  // required: no fallback
  if (typeof options.build !== 'function') check.invalid('build', `expected a function, got ${show(options.build)}`)
  const build = options.build as NormalizedClusterOptions['build']

  const listenIn = check.object('listen', options.listen ?? DEFAULTS.listen)
  check.known(listenIn, ['port', 'host'], 'listen.')
  const port = check.number('listen.port', listenIn.port, DEFAULTS.listen.port, { min: 0, max: 65535, integer: true })
  const host = check.string('listen.host', listenIn.host, DEFAULTS.listen.host)

  const workers = check.number('workers', options.workers, availableParallelism(), { min: 1, max: 1024, integer: true })
  const restartIn = check.object('restart', options.restart ?? {})
  check.known(restartIn, Object.keys(RESTART_DEFAULTS), 'restart.')
  const restart: Required<RestartOptions> = {
    initialDelay: ms('restart.initialDelay', restartIn.initialDelay, RESTART_DEFAULTS.initialDelay, 0),
    factor: check.number('restart.factor', restartIn.factor, RESTART_DEFAULTS.factor, { min: 1 }),
    maxDelay: ms('restart.maxDelay', restartIn.maxDelay, RESTART_DEFAULTS.maxDelay, 0),
    resetAfter: ms('restart.resetAfter', restartIn.resetAfter, RESTART_DEFAULTS.resetAfter, 0),
    maxRestarts: check.number('restart.maxRestarts', restartIn.maxRestarts, RESTART_DEFAULTS.maxRestarts, { min: 1, max: 2 ** 31 - 1, integer: true }),
    window: ms('restart.window', restartIn.window, RESTART_DEFAULTS.window, 1),
    minUptime: ms('restart.minUptime', restartIn.minUptime, RESTART_DEFAULTS.minUptime, 0)
  }
  if (restart.maxDelay < restart.initialDelay) check.invalid('restart.maxDelay', `must be at least restart.initialDelay (${restart.initialDelay}), got ${restart.maxDelay}`)

  const envIn = options.env ?? DEFAULTS.env
  if (!isObject(envIn) || Object.values(envIn).some((v) => typeof v !== 'string')) check.invalid('env', 'expected an object of strings')
  const execArgv = options.execArgv ?? DEFAULTS.execArgv
  // anything but a flag would be taken for the script to run
  if (!Array.isArray(execArgv) || !execArgv.every((arg) => typeof arg === 'string' && /^-./.test(arg))) {
    check.invalid('execArgv', `expected an array of flags (strings starting with "-"), got ${show(execArgv)}`)
  }
  const logger = options.logger ?? jsonLogger()
  if (!isObject(logger) || !['info', 'warn', 'error'].every((level) => typeof logger[level] === 'function')) {
    check.invalid('logger', 'expected an object with info, warn and error functions')
  }
  const heartbeatInterval = ms('heartbeatInterval', options.heartbeatInterval, DEFAULTS.heartbeatInterval, 10)
  const heartbeatTimeout = ms('heartbeatTimeout', options.heartbeatTimeout, DEFAULTS.heartbeatTimeout, 1)
  if (heartbeatTimeout < heartbeatInterval) check.invalid('heartbeatTimeout', `must be at least heartbeatInterval (${heartbeatInterval}), got ${heartbeatTimeout}`)

  return {
    primary: check.fn('primary', options.primary, () => undefined),
    build,
    listen: { port, host },
    workers,
    inProcess: workers === 1 || env[ENV.inProcess] === '0',
    shutdownTimeout: ms('shutdownTimeout', options.shutdownTimeout, DEFAULTS.shutdownTimeout, 1),
    readyTimeout: ms('readyTimeout', options.readyTimeout, DEFAULTS.readyTimeout, 1),
    heartbeatInterval,
    heartbeatTimeout,
    restart,
    env: { ...envIn as Record<string, string> },
    execArgv: [...execArgv as string[]],
    signals: check.boolean('signals', options.signals, DEFAULTS.signals),
    onStop: check.fn('onStop', options.onStop, () => {}),
    logger: logger as unknown as ClusterLogger
  }
}
