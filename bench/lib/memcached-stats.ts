/** Pure: Memcached `stats` snapshots and the commands run between two of them. */

/** The counters of a `stats` reply that count commands: gets (one per key), sets, touches, deletes. */
export const COMMAND_COUNTERS = ['cmd_get', 'cmd_set', 'cmd_touch', 'delete_hits', 'delete_misses'] as const

/** The numeric counters of a `stats` reply (lines `STAT <name> <value>`); other lines are skipped. */
export function parseStats (reply: string): Record<string, number> {
  const stats: Record<string, number> = {}
  for (const match of reply.matchAll(/^STAT (\S+) (\d+(?:\.\d+)?)\r?$/gm)) stats[match[1]!] = Number(match[2])
  return stats
}

/** The commands (`COMMAND_COUNTERS`) run between two snapshots per request; `NaN` without requests. */
export function memcachedCommandsPerRequest (before: Record<string, number>, after: Record<string, number>, requests: number): number {
  if (!(requests > 0)) return Number.NaN
  const total = COMMAND_COUNTERS.reduce((sum, name) => sum + (after[name] ?? 0) - (before[name] ?? 0), 0)
  return total / requests
}
