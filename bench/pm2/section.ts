// startCluster against PM2 cluster mode beyond throughput, as `npm run bench` reports it: the result
// the measuring child (`compare.ts`) sends (start time, memory, failed requests during a rolling
// restart under load), and its section of RESULTS.md. Pure: no I/O.
import { selects } from '../lib/config.js'
import type { ChildSection } from '../lib/child-section.js'
import { formatTable } from '../lib/table.js'

/** One rolling restart under one steady load. */
export interface ReloadRun {
  /** The load generator: `h2load (HTTP/2)` or `autocannon (HTTP/1.1 TLS)`. */
  load: string
  /** Its back-to-back runs (a few seconds each, from before the restart to after it). */
  runs: number
  /** Successful requests. */
  requests: number
  /** Failed requests: errors, timeouts and non-2xx answers. */
  failures: number
  /** The part of `failures` that are non-2xx answers (e.g. 503 from an app that is closing). */
  non2xx: number
  /** From the restart's trigger to the last old worker gone and every new one up; `null`: not done in time. */
  restartMs: number | null
  /** Why the restart did not finish or what the trigger said, if anything. */
  error?: string
}

/** What was measured of one process manager. */
export type ManagerResult =
  | {
    manager: string
    /** How the rolling restart was triggered (`SIGHUP to the primary`, `pm2 reload <name>`). */
    trigger: string
    /** From the start command to every worker ready, ms. */
    startMs: number
    /** Resident memory of the primary (startCluster's, or PM2's daemon), bytes, after a 1 s warm-up load. */
    primaryRss: number
    /** Resident memory of each worker, bytes, at the same time. */
    workerRss: number[]
    reloads: ReloadRun[]
    /** Anything else worth a line (e.g. how long PM2's daemon took to launch). */
    note?: string
  }
  | { manager: string, error: string }

/** A manager that was measured. */
export type MeasuredManager = Extract<ManagerResult, { startMs: number }>

/** The message the child sends when done. */
export interface Pm2CompareMessage {
  type: 'pm2-compare-result'
  results: ManagerResult[]
}

export const PM2_COMPARE_NAME = 'pm2/compare: startCluster vs PM2 cluster mode, rolling restart, memory and start time'

/** Whether `BENCH_ONLY` (`only`) selects it (see `selects`). */
export function pm2CompareSelected (only: string | undefined): boolean {
  return selects(only, PM2_COMPARE_NAME)
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)
const sum = (list: readonly number[]): number => list.reduce((a, b) => a + b, 0)

/** One line for the log: the failed requests of each manager's restarts. */
export function pm2CompareVerdict (results: readonly ManagerResult[]): string {
  return results.map((r) => 'error' in r
    ? `${r.manager}: not measured`
    : `${r.manager}: ${r.reloads.map((l) => `${l.failures} failed (${l.load.split(' ')[0]!})`).join(', ')}`).join('; ')
}

/** The section of RESULTS.md: the method, the two tables, or why it failed. */
export function pm2CompareSection (outcome: { results: readonly ManagerResult[] } | { error: string }): string {
  const lines = [
    '## startCluster vs PM2 cluster mode: rolling restart, memory, start time (`bench/pm2/compare.ts`)',
    '',
    'The app of `lib/cluster-app.ts` (HTTP/2 + TLS, `allowHTTP1`) with 2 workers under `startCluster()` ' +
      '(`servers/cluster-cpu.ts`) and under PM2 cluster mode, 2 instances (`pm2/app.ts`: `process.send(\'ready\')` ' +
      'after listen, `app.close()` on SIGINT; ecosystem file with `wait_ready`, `listen_timeout` 10 s, `kill_timeout` 3 s; ' +
      'a PM2_HOME of its own). **Start**: from the start command (`node server.js`; `pm2 start ecosystem.config.cjs` ' +
      'with the daemon already running) to every worker ready. **Memory**: resident set (`VmRSS`) of the primary ' +
      '(PM2: its daemon, the cluster primary there) and of each worker after a 1 s h2load warm-up. **Rolling ' +
      'restart**: back-to-back loads of 3 s on `GET /` (h2load, or autocannon over HTTP/1.1), the restart triggered 1 s ' +
      'into the first, until every old worker is gone and as many new ones run, then one more load; failed = errors, ' +
      'timeouts and non-2xx answers. One restart per load generator and manager.',
    ''
  ]
  if ('error' in outcome) return [...lines, `failed: ${outcome.error}`].join('\n')
  const measured = outcome.results.filter((r): r is MeasuredManager => !('error' in r))
  const memory = outcome.results.map((r) => 'error' in r
    ? [r.manager, '', '', '', '', `not measured: ${r.error}`]
    : [r.manager, String(Math.round(r.startMs)), mb(r.primaryRss), r.workerRss.map(mb).join(' + '), mb(r.primaryRss + sum(r.workerRss)), r.note ?? ''])
  const reloads = measured.flatMap((r) => r.reloads.map((l) => [
    r.manager, r.trigger, l.load, String(l.runs), String(l.requests), String(l.failures), String(l.non2xx),
    l.restartMs === null ? 'not done' : (l.restartMs / 1000).toFixed(1), l.error ?? ''
  ]))
  return [
    ...lines,
    formatTable(['manager', 'start → workers ready (ms)', 'primary RSS (MB)', 'worker RSS (MB)', 'total RSS (MB)', 'notes'], memory, [1, 2, 3, 4]),
    '',
    formatTable(['manager', 'restart', 'load', 'runs', 'requests', 'failed', 'of which non-2xx', 'restart took (s)', 'notes'], reloads, [3, 4, 5, 6, 7]),
    '',
    pm2CompareVerdict(outcome.results)
  ].join('\n')
}

/** The child in `dist/bench/pm2/compare.js`, four minutes at most. */
export const PM2_COMPARE_SECTION: ChildSection<ManagerResult[]> = {
  label: 'startCluster vs PM2',
  file: new URL('./compare.js', import.meta.url),
  deadlineSeconds: 240,
  resultOf: (message) => {
    const m = message as Partial<Pm2CompareMessage> | null
    return m?.type === 'pm2-compare-result' ? m.results : undefined
  },
  render: (results) => ({ section: pm2CompareSection({ results }), verdict: pm2CompareVerdict(results) }),
  renderError: (error) => pm2CompareSection({ error })
}
