import cluster, { type Worker } from 'node:cluster'
import { EventEmitter } from 'node:events'
import { fileWatchHost, reloadWorkerCertificates, type WorkerCertificatesReport } from './certificates.js'
import { FST_FLEET_CLUSTER_CRASH_LOOP, FST_FLEET_CLUSTER_READY_TIMEOUT, FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE } from './errors.js'
import type { NormalizedClusterOptions } from './options.js'
import { PrimaryBusHub, type PrimaryBus } from './primary-bus.js'
import { RestartPolicy } from './restart-policy.js'
import { ENV, TOPICS } from './names.js'
import { sharedMapHost, type SharedMapRequest } from './shared-map.js'
import { readReport, type FleetStatus, type WorkerStatus } from './status.js'

/** A worker as the primary sees it. */
export interface WorkerInfo {
  /** `cluster.worker.id` (new for every fork). */
  id: number
  pid: number | undefined
  /** The place it fills (0 … workers-1); a replacement takes the slot of the worker it replaces. */
  slot: number
  state: 'starting' | 'ready' | 'draining'
  /** When it was forked (ms since the epoch). */
  startedAt: number
}

/** What a rolling restart did. */
export interface ReloadReport {
  /** Workers replaced by a ready new one. */
  replaced: number
  /** Replacements that failed to become ready (their old worker kept serving). */
  failed: number
}

/** What `startCluster()` returns in the primary. */
export interface PrimaryHandle extends EventEmitter {
  readonly role: 'primary'
  /** The workers alive now. */
  readonly workers: readonly WorkerInfo[]
  readonly bus: PrimaryBus
  /** Rolling restart, one worker at a time (what SIGHUP does); concurrent calls share one. */
  reload: () => Promise<ReloadReport>
  /** Drains every worker and waits for them; resolves with the exit code (0, or 1 if some had to be killed). */
  stop: () => Promise<number>
  /**
   * The primary and its workers: state, uptime, restarts of each slot, and the memory and
   * event-loop delay each worker reported with its last heartbeat (what `app.fleet.status()` gets).
   */
  status: () => Promise<FleetStatus>
  /**
   * Every worker reads its TLS files again and swaps in what changed (`reloadCertificates()` of
   * `fastify-fleet/server` in each); a worker that fails keeps its certificate and says why.
   */
  reloadCertificates: () => Promise<WorkerCertificatesReport[]>
}

/** Extra time, past `shutdownTimeout`, before the primary kills a worker that has not exited. */
const KILL_GRACE = 1000

interface Tracked extends WorkerInfo, Pick<WorkerStatus, 'memory' | 'eventLoopDelay'> {
  worker: Worker
  /** The primary asked it to go: its exit is not a crash. */
  retiring: boolean
  /** A replacement forked by a rolling restart, not ready yet: if it fails, the old worker stays. */
  candidate: boolean
  lastAnswer: number
  ready: Promise<boolean>
  markReady: (ok: boolean) => void
  exited: Promise<void>
}

/** The primary: forks, watches, replaces, reloads and stops the workers. */
export function runPrimary (opts: NormalizedClusterOptions, shared: unknown): PrimaryHandle {
  const { logger } = opts
  const events = new EventEmitter()
  const bus = new PrimaryBusHub((err) => logger.error({ err: (err as Error)?.message ?? String(err) }, 'bus listener failed'))
  const policy = new RestartPolicy(opts.restart)
  const tracked = new Map<number, Tracked>()
  let stopping: Promise<number> | null = null
  let reloading: Promise<ReloadReport> | null = null
  const pendingRespawns = new Set<NodeJS.Timeout>()
  /** Replacements after an unexpected exit, per slot. */
  const restarts = new Map<number, number>()

  const maps = sharedMapHost()
  bus.handle(TOPICS.sharedMap, (request: SharedMapRequest) => maps(request))
  bus.handle(TOPICS.ready, (_data: unknown, from) => {
    const t = tracked.get(from.workerId)
    if (t !== undefined && t.state === 'starting') {
      t.state = 'ready'
      t.candidate = false
      t.lastAnswer = Date.now()
      logger.info({ worker: t.id, workerPid: t.pid, slot: t.slot, startup: Date.now() - t.startedAt }, 'worker ready')
      events.emit('ready', info(t))
      t.markReady(true)
    }
    return true
  })
  bus.handle(TOPICS.status, () => status())
  const stopWatches = fileWatchHost(bus)
  // IPC drops undefined: null stands for it, and the worker turns it back
  bus.handle(TOPICS.shared, () => ({ shared: shared ?? null, none: shared === undefined }))

  const info = (t: Tracked): WorkerInfo => ({ id: t.id, pid: t.pid, slot: t.slot, state: t.state, startedAt: t.startedAt })

  function fork (slot: number, candidate = false): Tracked {
    const worker = cluster.fork({ ...opts.env, [ENV.worker]: '1', [ENV.slot]: String(slot) })
    let markReady!: (ok: boolean) => void
    const ready = new Promise<boolean>((resolve) => {
      markReady = (ok) => {
        clearTimeout(readyTimer)
        resolve(ok)
      }
    })
    const t: Tracked = {
      id: worker.id,
      pid: worker.process.pid,
      slot,
      state: 'starting',
      startedAt: Date.now(),
      worker,
      retiring: false,
      candidate,
      lastAnswer: Date.now(),
      memory: null,
      eventLoopDelay: null,
      ready,
      markReady,
      exited: new Promise((resolve) => worker.once('exit', () => resolve()))
    }
    tracked.set(worker.id, t)
    bus.attach(worker)
    logger.info({ worker: t.id, workerPid: t.pid, slot }, 'worker forked')
    events.emit('fork', info(t))
    // cleared once it is ready, exits or is asked to go
    const readyTimer = setTimeout(() => {
      logger.warn({ worker: t.id, err: new FST_FLEET_CLUSTER_READY_TIMEOUT(t.id, opts.readyTimeout).message }, 'worker not ready in time, killing it')
      t.markReady(false)
      worker.process.kill('SIGKILL')
    }, opts.readyTimeout)
    worker.once('exit', (code, signal) => {
      t.markReady(false)
      tracked.delete(worker.id)
      const uptime = Date.now() - t.startedAt
      const expected = t.retiring || stopping !== null
      logger[expected ? 'info' : 'warn']({ worker: t.id, workerPid: t.pid, slot, code, signal, uptime }, expected ? 'worker stopped' : 'worker died')
      events.emit('exit', { ...info(t), code, signal, expected })
      // a failed replacement is not replaced: the worker it was to replace still serves
      if (!expected && !t.candidate) replace(t, uptime)
    })
    return t
  }

  function replace (t: Tracked, uptime: number): void {
    const next = policy.exited(t.slot, uptime, Date.now())
    if ('crashLoop' in next) {
      const err = new FST_FLEET_CLUSTER_CRASH_LOOP(next.crashLoop)
      logger.error({ code: err.code }, err.message)
      events.emit('crash-loop', err)
      stop(1)
      return
    }
    logger.info({ slot: t.slot, delay: next.delay }, 'replacing worker')
    const timer = setTimeout(() => {
      pendingRespawns.delete(timer)
      if (stopping === null) {
        restarts.set(t.slot, (restarts.get(t.slot) ?? 0) + 1)
        fork(t.slot)
      }
    }, next.delay)
    pendingRespawns.add(timer)
  }

  // heartbeat: a worker whose event loop does not answer for heartbeatTimeout is killed (and replaced)
  const heartbeat = setInterval(() => {
    const now = Date.now()
    for (const t of tracked.values()) {
      if (t.state !== 'ready') continue
      if (now - t.lastAnswer > opts.heartbeatTimeout) {
        logger.warn({ worker: t.id, workerPid: t.pid, silentFor: now - t.lastAnswer }, 'worker unresponsive, killing it')
        events.emit('unresponsive', info(t))
        t.state = 'draining'
        t.worker.process.kill('SIGKILL')
        continue
      }
      bus.request(t.id, TOPICS.ping, null, { timeout: opts.heartbeatTimeout }).then((answer) => {
        t.lastAnswer = Date.now()
        Object.assign(t, readReport(answer))
      }, () => {})
    }
  }, opts.heartbeatInterval)
  heartbeat.unref()

  /** Asks a worker to drain and exit; kills it if it is still there past the deadline. */
  async function retire (t: Tracked): Promise<boolean> {
    const starting = t.state === 'starting'
    t.markReady(false)
    t.retiring = true
    t.state = 'draining'
    if (starting) {
      // still building: nothing to drain yet, and it may not listen to the bus
      t.worker.process.kill('SIGTERM')
    } else {
      bus.request(t.id, TOPICS.drain, null, { timeout: opts.shutdownTimeout }).catch(() => {
        // it cannot hear (busy or gone): a signal does the same (a no-op on a process already gone)
        t.worker.process.kill('SIGTERM')
      })
    }
    let killed = false
    const deadline = setTimeout(() => {
      killed = true
      logger.warn({ worker: t.id, workerPid: t.pid }, 'worker did not stop in time, killing it')
      t.worker.process.kill('SIGKILL')
    }, opts.shutdownTimeout + KILL_GRACE)
    await t.exited
    clearTimeout(deadline)
    return !killed
  }

  function status (): FleetStatus {
    const now = Date.now()
    const workers = [...tracked.values()].map((t): WorkerStatus => ({
      id: t.id,
      pid: t.pid,
      slot: t.slot,
      state: t.state,
      uptime: now - t.startedAt,
      restarts: restarts.get(t.slot) ?? 0,
      memory: t.memory,
      eventLoopDelay: t.eventLoopDelay
    }))
    const { rss, heapUsed } = process.memoryUsage()
    return { primary: { pid: process.pid, uptime: Math.round(process.uptime() * 1000), memory: { rss, heapUsed } }, workers }
  }

  async function reload (): Promise<ReloadReport> {
    if (stopping !== null) throw new FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE('the cluster is stopping')
    reloading ??= (async () => {
      const report: ReloadReport = { replaced: 0, failed: 0 }
      const old = [...tracked.values()].filter((t) => !t.retiring)
      logger.info({ workers: old.length }, 'rolling restart')
      events.emit('reload')
      for (const t of old) {
        if (stopping !== null) break
        if (!tracked.has(t.id)) continue // died meanwhile, already replaced
        const fresh = fork(t.slot, true)
        if (!(await fresh.ready)) {
          report.failed++
          logger.error({ slot: t.slot, worker: fresh.id }, 'replacement not ready, keeping the old worker')
          continue
        }
        await retire(t)
        report.replaced++
      }
      logger.info({ ...report }, 'rolling restart done')
      events.emit('reloaded', report)
      return report
    })().finally(() => { reloading = null })
    return await reloading
  }

  async function stop (code = 0): Promise<number> {
    stopping ??= (async () => {
      clearInterval(heartbeat)
      stopWatches()
      for (const timer of pendingRespawns) clearTimeout(timer)
      logger.info({ workers: tracked.size }, 'stopping')
      const clean = await Promise.all([...tracked.values()].map(retire))
      await opts.onStop()
      const exitCode = clean.every(Boolean) ? code : 1
      logger.info({ code: exitCode }, 'stopped')
      events.emit('stopped', exitCode)
      return exitCode
    })()
    return await stopping
  }

  if (opts.signals) {
    const onStop = (signal: string): void => {
      logger.info({ signal }, 'signal received')
      stop().then((code) => process.exit(code))
    }
    process.once('SIGTERM', onStop)
    process.once('SIGINT', onStop)
    process.on('SIGHUP', () => {
      if (stopping === null) {
        // c8 ignore next -- reload() rejects only while stopping, which was just ruled out
        reload().catch((err: Error) => logger.error({ err: err.message }, 'rolling restart failed'))
      } else {
        logger.warn({}, 'SIGHUP ignored: the cluster is stopping')
      }
    })
    events.on('crash-loop', () => { stop(1).then((code) => process.exit(code)) })
  }

  for (let slot = 0; slot < opts.workers; slot++) fork(slot)

  return Object.defineProperties(events, {
    role: { value: 'primary', enumerable: true },
    workers: { get: () => [...tracked.values()].map(info), enumerable: true },
    bus: { value: bus, enumerable: true },
    reload: { value: reload, enumerable: true },
    stop: { value: async () => await stop(), enumerable: true },
    status: { value: async () => status(), enumerable: true },
    reloadCertificates: {
      value: async () => await reloadWorkerCertificates(bus, [...tracked.values()].filter((t) => t.state === 'ready'), opts.heartbeatTimeout),
      enumerable: true
    }
  }) as PrimaryHandle
}
