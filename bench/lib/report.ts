/** Pure: the text of `bench/RESULTS.md`. */
import type { BenchConfig } from './config.js'
import { formatDuration } from './stats.js'
import { NOISE_LIMIT } from './table.js'

/** The machine and tools a run was measured on. */
export interface MachineInfo {
  /** `os.availableParallelism()`. */
  cores: number
  cpuModel: string
  /** `process.version`. */
  node: string
  /** e.g. `linux 6.1.0 x64`. */
  os: string
  /** Tool versions, e.g. `h2load nghttp2/1.52.0`, or `h2load: not installed`. */
  tools: string[]
  /** `os.loadavg()` (1, 5, 15 min) when the run started and when it ended: other work on the machine skews the figures. */
  loadAverage: { start: number[], end: number[] }
}

const formatLoad = (load: number[]): string => load.map((l) => l.toFixed(2)).join(' / ')

export interface ReportInput {
  machine: MachineInfo
  config: BenchConfig
  /** When the run started. */
  date: Date
  /** Wall-clock seconds of the whole run. */
  elapsedSeconds: number
  /** `resultsTable()`'s output. */
  table: string
  /** The chart's file name, next to the results file (linked under the table). */
  chart?: string | undefined
}

/** The method paragraph: how the figures were taken, with the tools' parameters. */
export function describeMethod (config: BenchConfig): string[] {
  const { duration, rounds, warmup, connections, streams } = config
  return [
    'Each server runs alone in its own child process (`node dist/bench/servers/<name>.js`, `logger: false`, ' +
      'listening on 127.0.0.1, a free port); the load generator runs in or from the harness process.',
    `Per scenario: ${warmup > 0 ? `one unmeasured ${warmup} s warm-up load per server, then ` : ''}` +
      `${rounds} round${rounds === 1 ? '' : 's'} in which the fleet server and each anchor are loaded in turn, ` +
      `${duration} s each: odd rounds fleet first (A B), even rounds the reverse (B A). req/s are the medians of the rounds. ` +
      'Ratio = fleet / anchor (above 1: fleet is faster), the median of the per-round ratios (each round\'s fleet req/s ' +
      'over the anchor\'s from the same round); ratio spread = half the range of the per-round ratios around their median. ' +
      `A row with a goal gets a verdict (met / missed) only when its ratio spread is at most ±${NOISE_LIMIT * 100} %; ` +
      'otherwise it says noisy. The notes give each side\'s req/s spread (half the range of its rounds around their median). ' +
      'A scenario\'s own figures in the notes (e.g. Redis commands/request) are taken around each measured load and are ' +
      'medians of the rounds too (fleet / anchor).',
    'Server CPU µs/request (in the notes): the user + system CPU time of the server process and its children (a cluster\'s ' +
      'workers), read from `/proc/<pid>/stat` (10 ms ticks) before and after each measured load, over its successful requests; ' +
      'medians of the rounds. It does not count the load generator or a backend (Redis), and moves less than req/s from run ' +
      'to run on a shared machine.',
    `HTTP/2: \`h2load -c ${connections} -m ${streams} -t 1 -D ${duration}s https://127.0.0.1:PORT/…\` ` +
      '(timing-based, so no `-n`); req/s is h2load\'s figure less the failed share; h2load reports no percentiles, so the notes ' +
      'give its mean time per request. Failed = h2load\'s failed requests (errored, timed out, 4xx/5xx) + 3xx responses.',
    `HTTP/1.1: autocannon (programmatic API) with ${connections} connections, pipelining 1, ${duration} s, ` +
      'TLS without certificate check and without ALPN (so an `allowHTTP1` server answers in HTTP/1.1); ' +
      'req/s = 2xx responses / duration; p99 is autocannon\'s latency histogram (whole milliseconds). ' +
      'Failed = connection errors and timeouts + non-2xx responses.',
    'Both load generator and server share this machine: compare ratios, not absolute figures, across machines.'
  ]
}

/** The whole `bench/RESULTS.md`. */
export function renderReport (input: ReportInput): string {
  const { machine, config, date, elapsedSeconds, table, chart } = input
  return [
    '# Benchmark results',
    '',
    '_Written by `npm run bench` (`bench/run.ts`); do not edit by hand._',
    '',
    `- Date: ${date.toISOString()}`,
    `- Machine: ${machine.cores} cores (\`os.availableParallelism()\`), ${machine.cpuModel}, ${machine.os}`,
    `- Node: ${machine.node}`,
    `- Tools: ${machine.tools.join(', ')}`,
    `- Load average (1 / 5 / 15 min): ${formatLoad(machine.loadAverage.start)} at start, ${formatLoad(machine.loadAverage.end)} at end`,
    `- Run time (without the build): ${formatDuration(elapsedSeconds)}`,
    '',
    '## Results',
    '',
    table,
    '',
    ...(chart === undefined ? [] : [`![The ratio of each row, its spread and its goal](${chart})`, '']),
    '## Method',
    '',
    ...describeMethod(config).map((line) => `- ${line}`),
    ''
  ].join('\n')
}
