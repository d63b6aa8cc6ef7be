/** Pure: Redis `INFO commandstats` snapshots and the commands run between two of them. */

/** Calls per command, as `INFO commandstats` gives them (`get`, `set`, `client|setname` …). */
export type CommandStats = Record<string, number>

/**
 * The calls per command of an `INFO commandstats` reply (lines `cmdstat_<name>:calls=<n>,usec=…`).
 * Other lines (section headers, blank lines, other sections) are skipped.
 */
export function parseCommandStats (info: string): CommandStats {
  const stats: CommandStats = {}
  for (const match of info.matchAll(/^cmdstat_([^:\s]+):calls=(\d+)/gm)) {
    stats[match[1]!] = Number(match[2])
  }
  return stats
}

/**
 * The commands run between two snapshots, by name, without those in `ignore` (by default `info`:
 * the snapshots' own). Commands with no new call are left out; a command missing from `before` had
 * none (Redis lists a command from its first call on, and `CONFIG RESETSTAT` between the snapshots
 * would make the figures meaningless anyway).
 */
export function commandsBetween (before: CommandStats, after: CommandStats, ignore: readonly string[] = ['info']): CommandStats {
  const skip = new Set(ignore)
  const delta: CommandStats = {}
  for (const [name, calls] of Object.entries(after)) {
    const run = calls - (before[name] ?? 0)
    if (run !== 0 && !skip.has(name)) delta[name] = run
  }
  return delta
}

/** Commands run between two snapshots (see `commandsBetween()`) per request; `NaN` without requests. */
export function commandsPerRequest (before: CommandStats, after: CommandStats, requests: number, ignore?: readonly string[]): number {
  if (!(requests > 0)) return Number.NaN
  const total = Object.values(commandsBetween(before, after, ignore)).reduce((sum, n) => sum + n, 0)
  return total / requests
}
