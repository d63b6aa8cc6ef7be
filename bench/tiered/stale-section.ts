// The stale window of TieredStore's invalidation, as `npm run bench` reports it: the result the
// measuring child (`stale-window.ts`) sends, and its section of RESULTS.md. Pure: no I/O.
import { selects } from '../lib/config.js'
import type { ChildSection } from '../lib/child-section.js'
import { formatTable } from '../lib/table.js'

/** One channel's windows, in ms; or why it was not measured. */
export type StaleSeries =
  | { channel: string, changes: number, p50Ms: number, p99Ms: number, maxMs: number, early: number }
  | { channel: string, error: string }

/** The message the child sends when done. */
export interface StaleResultMessage {
  type: 'stale-window-result'
  series: StaleSeries[]
}

export const STALE_BENCH_NAME = 'tiered/stale-window: TieredStore invalidation stale window'

/** Whether `BENCH_ONLY` (`only`) selects it (see `selects`). */
export function staleSelected (only: string | undefined): boolean {
  return selects(only, STALE_BENCH_NAME)
}

/** The nearest-rank percentile `p` (0–1) of ascending `sorted` windows. */
const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1] as number

/** The series of one channel from its windows (ms, any order; at least one). */
export function staleSeries (channel: string, windows: readonly number[]): StaleSeries {
  const sorted = [...windows].sort((a, b) => a - b)
  return {
    channel,
    changes: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] as number,
    early: sorted.filter((w) => w <= 0).length
  }
}

const ms = (value: number): string => value.toFixed(2)

/** One line for the log: p50 and p99 per channel. */
export function staleVerdict (series: readonly StaleSeries[]): string {
  return series.map((s) => 'error' in s ? `${s.channel}: not measured` : `${s.channel}: p50 ${ms(s.p50Ms)} ms, p99 ${ms(s.p99Ms)} ms`).join('; ')
}

/** The section of RESULTS.md: what was measured, the table, or why it failed. */
export function staleSection (outcome: { result: readonly StaleSeries[] } | { error: string }): string {
  const lines = [
    '## Stale window of TieredStore invalidation (`bench/tiered/stale-window.ts`)',
    '',
    'Two `TieredStore`s in one process, each over its own store on its own connections (two hosts, as far as the ' +
      'server can tell), their copies kept up to a minute so that only the invalidation message makes B read again. ' +
      'Each change: B holds a copy of the session, A changes it; the window runs from A\'s `set` resolving to B dropping ' +
      'its copy (ms; at or below 0: B heard before A\'s `set` resolved, as the message is published once the write ' +
      'landed, before `set` resolves). Redis on a throwaway `redis-server`, PostgreSQL on the shared server ' +
      '(`DATABASE_URL`, a table of its own, dropped after). Between two processes the window adds the scheduling of the ' +
      'other process (`test/session/tiered-processes.test.ts` sees a few ms on a loaded 2-core machine).',
    ''
  ]
  if ('error' in outcome) return [...lines, `failed: ${outcome.error}`].join('\n')
  const rows = outcome.result.map((s) => 'error' in s
    ? [s.channel, '', '', '', '', `not measured: ${s.error}`]
    : [s.channel, String(s.changes), ms(s.p50Ms), ms(s.p99Ms), ms(s.maxMs), String(s.early)])
  return [...lines, formatTable(['channel', 'changes', 'p50 ms', 'p99 ms', 'max ms', 'heard before set resolved'], rows, [1, 2, 3, 4, 5]), '', staleVerdict(outcome.result)].join('\n')
}

/** The child in `dist/bench/tiered/stale-window.js`, two minutes at most. */
export const STALE_SECTION: ChildSection<StaleSeries[]> = {
  label: 'stale window',
  file: new URL('./stale-window.js', import.meta.url),
  deadlineSeconds: 120,
  resultOf: (message) => {
    const m = message as Partial<StaleResultMessage> | null
    return m?.type === 'stale-window-result' ? m.series : undefined
  },
  render: (result) => ({ section: staleSection({ result }), verdict: staleVerdict(result) }),
  renderError: (error) => staleSection({ error })
}
