import { readdirSync, readFileSync } from 'node:fs'

/** What `/proc/<pid>/stat` says of a process: its parent and the CPU it has used, in clock ticks. */
export interface ProcStat {
  pid: number
  ppid: number
  /** User + system time, in clock ticks. */
  ticks: number
  /** The same of its children that have ended and that it waited for, in clock ticks. */
  endedTicks: number
}

/**
 * Parses the text of `/proc/<pid>/stat`: `pid (comm) state ppid … utime stime …`. The command name
 * may hold spaces and parentheses, so the fields are counted from the last `)`. `null` when the
 * text is not such a line.
 */
export function parseProcStat (text: string): ProcStat | null {
  const close = text.lastIndexOf(')')
  if (close < 0) return null
  const pid = Number(text.slice(0, text.indexOf(' (')))
  // after ") ": state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt, cmajflt, utime, stime, cutime, cstime
  const fields = text.slice(close + 2).split(' ')
  const ppid = Number(fields[1])
  const ticks = Number(fields[11]) + Number(fields[12])
  const endedTicks = Number(fields[13]) + Number(fields[14])
  return Number.isInteger(pid) && pid > 0 && Number.isInteger(ppid) && Number.isInteger(ticks) && Number.isInteger(endedTicks) ? { pid, ppid, ticks, endedTicks } : null
}

/** Ticks per second of `/proc` times: Linux's USER_HZ, 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100

/**
 * The CPU of `stats`' process `pid` and every process below it (a cluster's workers), in seconds;
 * `null` when `pid` is not among them. With `ended`, also that of `pid`'s children that have ended
 * (a database server's closed connections).
 */
export function treeCpuSeconds (pid: number, stats: readonly ProcStat[], ended = false): number | null {
  const children = new Map<number, ProcStat[]>()
  let root: ProcStat | undefined
  for (const stat of stats) {
    if (stat.pid === pid) root = stat
    const siblings = children.get(stat.ppid)
    if (siblings === undefined) children.set(stat.ppid, [stat])
    else siblings.push(stat)
  }
  if (root === undefined) return null
  let ticks = ended ? root.endedTicks : 0
  const pending = [root]
  for (let stat = pending.pop(); stat !== undefined; stat = pending.pop()) {
    ticks += stat.ticks
    pending.push(...(children.get(stat.pid) ?? []))
  }
  return ticks / TICKS_PER_SECOND
}

/** Every process's `/proc/<pid>/stat`; `null` without a `/proc` (not Linux). Processes that exit meanwhile are left out. */
export function readProcStats (proc = '/proc'): ProcStat[] | null {
  let entries: string[]
  try {
    entries = readdirSync(proc)
  } catch {
    return null
  }
  const stats: ProcStat[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let text: string
    try {
      text = readFileSync(`${proc}/${entry}/stat`, 'utf8')
    } catch {
      continue // exited since the listing
    }
    const stat = parseProcStat(text)
    if (stat !== null) stats.push(stat)
  }
  return stats
}

/**
 * CPU seconds used so far by `pid` and its descendants (with `ended`, also its ended children), from
 * `/proc`; `null` where that cannot be read.
 */
export function processTreeCpu (pid: number, proc = '/proc', ended = false): number | null {
  const stats = readProcStats(proc)
  return stats === null ? null : treeCpuSeconds(pid, stats, ended)
}
