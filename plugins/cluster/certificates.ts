import { watchFiles } from '../internal/file-watch.js'
import { TOPICS } from './names.js'
import type { PrimaryBus } from './primary-bus.js'

/** One certificate a worker's server presents after `handle.reloadCertificates()`. */
export interface WorkerCertificate {
  /** `false` when the files held what the server already presented. */
  changed: boolean
  serial: string
  fingerprint256: string
  /** ISO date (the report crossed IPC as JSON). */
  expiresAt: string
}

/** What one worker answered to `handle.reloadCertificates()`. */
export interface WorkerCertificatesReport {
  workerId: number
  pid: number | undefined
  /** One entry per server of the worker made by `serverOptions({ key, cert })`; empty when it has none. */
  certificates: WorkerCertificate[]
  /** Why the worker could not reload (`FST_FLEET_SERVER_TLS_RELOAD_FAILED`: it keeps its old certificate). */
  error?: { message: string, code?: string }
}

/** Workers' servers made with `serverOptions({ watch })` ask the primary to poll their files, once for all. */
export function fileWatchHost (bus: PrimaryBus): () => void {
  const watches = new Map<string, () => void>()
  bus.handle(TOPICS.watchFiles, (data: { paths?: unknown, interval?: unknown }) => {
    const { paths, interval } = data ?? {}
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string') ||
      typeof interval !== 'number' || !(interval >= 100)) {
      throw new TypeError('expected { paths: string[], interval: number >= 100 }')
    }
    const key = paths.join('\n')
    if (!watches.has(key)) watches.set(key, watchFiles(paths, interval, () => bus.broadcast(TOPICS.filesChanged, { paths })))
    return true
  })
  return () => {
    for (const stop of watches.values()) stop()
    watches.clear()
  }
}

/** Asks each worker to reload its certificates; a worker that fails or has gone is reported, not thrown. */
export async function reloadWorkerCertificates (
  bus: PrimaryBus, workers: ReadonlyArray<{ id: number, pid: number | undefined }>, timeout: number
): Promise<WorkerCertificatesReport[]> {
  return await Promise.all(workers.map(async ({ id, pid }): Promise<WorkerCertificatesReport> => {
    try {
      const certificates = await bus.request<WorkerCertificate[]>(id, TOPICS.reloadCertificates, null, { timeout })
      return { workerId: id, pid, certificates }
    } catch (err) {
      const { message, code, remoteCode } = err as { message: string, code?: string, remoteCode?: string }
      // a worker whose servers have no certificate files never registered the topic
      if (code === 'FST_FLEET_CLUSTER_BUS_NO_HANDLER') return { workerId: id, pid, certificates: [] }
      return { workerId: id, pid, certificates: [], error: { message, code: remoteCode ?? code } }
    }
  }))
}
