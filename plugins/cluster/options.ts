import { availableParallelism } from 'node:os'
import type { FastifyInstance } from 'fastify'
import { FST_FLEET_CLUSTER_INVALID_OPTION } from './errors.js'

/** A pino-style logger (`logger.info(obj, msg)`); Fastify's `app.log` fits. */
export interface ClusterLogger {
  info: (obj: Record<string, unknown>, msg: string) => void
  warn: (obj: Record<string, unknown>, msg: string) => void
  error: (obj: Record<string, unknown>, msg: string) => void
}

/** A Fastify instance of any server kind (HTTP/2, HTTPS, HTTP). */
export type AnyFastifyInstance = FastifyInstance<any, any, any, any, any>

/** What `build` receives. */
export interface BuildContext {
  /** This worker's `cluster.worker.id`; `0` in a single process. */
  workerId: number
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

/** Options of `startCluster()`. */
export interface StartClusterOptions {
  /** Builds the worker's app (called in each worker, or once in a single process). */
  build: (context: BuildContext) => AnyFastifyInstance | Promise<AnyFastifyInstance>
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
  signals: true
} as const satisfies Partial<StartClusterOptions>

export interface NormalizedClusterOptions {
  build: StartClusterOptions['build']
  listen: { port: number, host: string }
  workers: number
  inProcess: boolean
  shutdownTimeout: number
  readyTimeout: number
  heartbeatInterval: number
  heartbeatTimeout: number
  restart: Required<RestartOptions>
  env: Record<string, string>
  signals: boolean
  onStop: () => void | Promise<void>
  logger: ClusterLogger
}

const invalid = (name: string, reason: string): never => {
  throw new FST_FLEET_CLUSTER_INVALID_OPTION(name, reason)
}

const describe = (value: unknown): string => typeof value === 'number' ? String(value) : typeof value

function integer (name: string, value: unknown, min: number, max = 2 ** 31 - 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return invalid(name, `expected an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function known (name: string, input: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(input)) if (!keys.includes(key)) invalid(name === '' ? key : `${name}.${key}`, 'unknown option')
}

/** The default logger: one JSON line per event on standard output (pino's level numbers). */
export function jsonLogger (write: (line: string) => void = (line) => { process.stdout.write(line) }): ClusterLogger {
  const line = (level: number) => (obj: Record<string, unknown>, msg: string): void => {
    write(JSON.stringify({ level, time: Date.now(), pid: process.pid, ...obj, msg }) + '\n')
  }
  return { info: line(30), warn: line(40), error: line(50) }
}

const OPTION_KEYS = ['build', 'listen', 'workers', 'shutdownTimeout', 'readyTimeout', 'heartbeatInterval', 'heartbeatTimeout', 'restart', 'env', 'signals', 'onStop', 'logger']

/** Validates `startCluster()`'s options (never touching the caller's object). */
export function normalizeOptions (input: unknown, env: NodeJS.ProcessEnv = process.env): NormalizedClusterOptions {
  if (!isObject(input)) return invalid('options', `expected an object, got ${input === null ? 'null' : typeof input}`)
  known('', input, OPTION_KEYS)
  if (typeof input.build !== 'function') invalid('build', `expected a function, got ${typeof input.build}`)

  const listenIn = input.listen ?? DEFAULTS.listen
  if (!isObject(listenIn)) return invalid('listen', `expected an object, got ${typeof listenIn}`)
  known('listen', listenIn, ['port', 'host'])
  const port = integer('listen.port', listenIn.port ?? DEFAULTS.listen.port, 0, 65535)
  const host = listenIn.host ?? DEFAULTS.listen.host
  if (typeof host !== 'string' || host === '') invalid('listen.host', `expected a non-empty string, got ${typeof host}`)

  const workers = integer('workers', input.workers ?? availableParallelism(), 1, 1024)
  const restartIn = input.restart ?? {}
  if (!isObject(restartIn)) return invalid('restart', `expected an object, got ${typeof restartIn}`)
  known('restart', restartIn, Object.keys(RESTART_DEFAULTS))
  const factor = restartIn.factor ?? RESTART_DEFAULTS.factor
  if (typeof factor !== 'number' || !(factor >= 1) || !Number.isFinite(factor)) invalid('restart.factor', `expected a finite number ≥ 1, got ${describe(factor)}`)
  const restart: Required<RestartOptions> = {
    initialDelay: integer('restart.initialDelay', restartIn.initialDelay ?? RESTART_DEFAULTS.initialDelay, 0),
    factor: factor as number,
    maxDelay: integer('restart.maxDelay', restartIn.maxDelay ?? RESTART_DEFAULTS.maxDelay, 0),
    resetAfter: integer('restart.resetAfter', restartIn.resetAfter ?? RESTART_DEFAULTS.resetAfter, 0),
    maxRestarts: integer('restart.maxRestarts', restartIn.maxRestarts ?? RESTART_DEFAULTS.maxRestarts, 1),
    window: integer('restart.window', restartIn.window ?? RESTART_DEFAULTS.window, 1),
    minUptime: integer('restart.minUptime', restartIn.minUptime ?? RESTART_DEFAULTS.minUptime, 0)
  }
  if (restart.maxDelay < restart.initialDelay) invalid('restart.maxDelay', `must be at least restart.initialDelay (${restart.initialDelay}), got ${restart.maxDelay}`)

  const envIn = input.env ?? DEFAULTS.env
  if (!isObject(envIn) || Object.values(envIn).some((v) => typeof v !== 'string')) invalid('env', 'expected an object of strings')
  const signals = input.signals ?? DEFAULTS.signals
  if (typeof signals !== 'boolean') invalid('signals', `expected a boolean, got ${typeof signals}`)
  const onStop = input.onStop ?? (() => {})
  if (typeof onStop !== 'function') invalid('onStop', `expected a function, got ${typeof onStop}`)
  const logger = input.logger ?? jsonLogger()
  if (!isObject(logger) || !['info', 'warn', 'error'].every((level) => typeof logger[level] === 'function')) {
    invalid('logger', 'expected an object with info, warn and error functions')
  }
  const heartbeatInterval = integer('heartbeatInterval', input.heartbeatInterval ?? DEFAULTS.heartbeatInterval, 10)
  const heartbeatTimeout = integer('heartbeatTimeout', input.heartbeatTimeout ?? DEFAULTS.heartbeatTimeout, 1)
  if (heartbeatTimeout < heartbeatInterval) invalid('heartbeatTimeout', `must be at least heartbeatInterval (${heartbeatInterval}), got ${heartbeatTimeout}`)

  return {
    build: input.build as StartClusterOptions['build'],
    listen: { port, host: host as string },
    workers,
    inProcess: workers === 1 || env.FLEET_CLUSTER === '0',
    shutdownTimeout: integer('shutdownTimeout', input.shutdownTimeout ?? DEFAULTS.shutdownTimeout, 1),
    readyTimeout: integer('readyTimeout', input.readyTimeout ?? DEFAULTS.readyTimeout, 1),
    heartbeatInterval,
    heartbeatTimeout,
    restart,
    env: { ...envIn as Record<string, string> },
    signals: signals as boolean,
    onStop: onStop as () => void | Promise<void>,
    logger: logger as ClusterLogger
  }
}
