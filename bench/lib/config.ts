/** Harness settings, read from the environment. */
export interface BenchConfig {
  /** Seconds per measured load (`BENCH_DURATION`). @default 2 */
  duration: number
  /** Measured loads per server (`BENCH_ROUNDS`); odd rounds load the servers in turn A B, even rounds B A. @default 7 */
  rounds: number
  /** Seconds of one unmeasured load per server before the rounds (`BENCH_WARMUP`, `0` = none). @default 1 */
  warmup: number
  /** Concurrent connections (autocannon) / clients (h2load `-c`) (`BENCH_CONNECTIONS`). @default 10 */
  connections: number
  /** Concurrent streams per HTTP/2 client (h2load `-m`) (`BENCH_STREAMS`). @default 10 */
  streams: number
  /**
   * Only scenarios (and sections) whose name or file name contains this text, case-insensitive
   * (`BENCH_ONLY`); several texts separated by commas select what any of them selects. @default undefined
   */
  only: string | undefined
  /** Where the results go (`BENCH_RESULTS`, `none` = do not write). @default 'bench/RESULTS.md' */
  results: string | undefined
}

export const CONFIG_DEFAULTS = {
  duration: 2,
  rounds: 7,
  warmup: 1,
  connections: 10,
  streams: 10
} as const satisfies Partial<BenchConfig>

function number (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, integer: boolean): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** Reads and checks the `BENCH_*` variables; throws a `RangeError` naming the bad one. */
export function readConfig (env: NodeJS.ProcessEnv = process.env, defaultResults = 'bench/RESULTS.md'): BenchConfig {
  const only = env.BENCH_ONLY?.trim()
  const results = env.BENCH_RESULTS?.trim()
  return {
    duration: number(env, 'BENCH_DURATION', CONFIG_DEFAULTS.duration, 0.5, 300, false),
    rounds: number(env, 'BENCH_ROUNDS', CONFIG_DEFAULTS.rounds, 1, 50, true),
    warmup: number(env, 'BENCH_WARMUP', CONFIG_DEFAULTS.warmup, 0, 60, false),
    connections: number(env, 'BENCH_CONNECTIONS', CONFIG_DEFAULTS.connections, 1, 1000, true),
    streams: number(env, 'BENCH_STREAMS', CONFIG_DEFAULTS.streams, 1, 1000, true),
    only: only === undefined || only === '' ? undefined : only,
    results: results === 'none' ? undefined : results === undefined || results === '' ? defaultResults : results
  }
}

/** Seconds the loads of one scenario take: per server, one warm-up and `rounds` measured loads. */
export function estimateSeconds (config: Pick<BenchConfig, 'duration' | 'rounds' | 'warmup'>, servers: number): number {
  return servers * (config.warmup + config.rounds * config.duration)
}

/** Whether `BENCH_ONLY` (`only`) selects something named `names`: always without it, else when one of its comma-separated texts is in one of the names (any case). */
export function selects (only: string | undefined, ...names: string[]): boolean {
  if (only === undefined) return true
  const needles = only.toLowerCase().split(',').map((n) => n.trim()).filter((n) => n !== '')
  return needles.some((needle) => names.some((name) => name.toLowerCase().includes(needle)))
}
