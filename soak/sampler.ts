// Samples of each process of the soak: RSS and open file descriptors from /proc, heap from the
// demo's own fleet status (the primary's now, each worker's as of its last heartbeat).
import { readdirSync, readFileSync } from 'node:fs'
import type { ProcessSample } from './verdict.js'

/** The part of the demo's `GET /fleet` answer the sampler reads. */
export interface FleetAnswer {
  primary: { memory?: { heapUsed: number } } | null
  workers: Array<{ pid: number, slot: number, memory: { heapUsed: number } | null }>
}

/** RSS in bytes and open descriptors of `pid`, or `null` when it is gone. */
export function procStats (pid: number, proc = '/proc'): { rss: number, fds: number } | null {
  try {
    const status = readFileSync(`${proc}/${pid}/status`, 'utf8')
    // a process that has exited but is not reaped yet has no VmRSS line
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]
    return kb === undefined ? null : { rss: Number(kb) * 1024, fds: readdirSync(`${proc}/${pid}/fd`).length }
  } catch {
    return null
  }
}

/**
 * One sample of every process: the primary (its heap from the fleet status), each worker named by its
 * slot (a replaced worker continues its slot's series), and Redis.
 */
export function sampleProcesses (at: number, primaryPid: number, fleet: FleetAnswer, redisPid: number | null): ProcessSample[] {
  const samples: ProcessSample[] = []
  const add = (name: string, pid: number, heapUsed: number | null): void => {
    const stats = procStats(pid)
    if (stats !== null) samples.push({ at, name, pid, rss: stats.rss, fds: stats.fds, heapUsed })
  }
  add('primary', primaryPid, fleet.primary?.memory?.heapUsed ?? null)
  for (const w of fleet.workers) add(`worker ${w.slot}`, w.pid, w.memory?.heapUsed ?? null)
  if (redisPid !== null) add('redis', redisPid, null)
  return samples
}
