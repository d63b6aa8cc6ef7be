/** Pure: from measured loads to the one results table. */
import type { LoadResult } from './load.js'
import type { Protocol } from './scenario.js'
import { formatFigure, formatMs, formatRatio, formatRps, formatSpread, median, roundRatios, spread } from './stats.js'

/** The measured loads of one server in one scenario, summarised. */
export interface SideSummary {
  /** Median req/s of the rounds. */
  rps: number
  /** Every round's req/s, in the order measured. */
  rpsRuns: number[]
  /** Median of the rounds' p99 latency in ms (`NaN` when the tool does not report it). */
  p99Ms: number
  /** Median of the rounds' mean latency in ms. */
  meanMs: number
  /** `spread()` of the rounds' req/s. */
  spread: number
  /** Failed requests and non-2xx responses, summed over the rounds. */
  failures: number
  /** Application protocols negotiated, as reported by the tool (empty when it does not say). */
  protocols: string[]
  /** Median of the rounds of each scenario metric, by label, in the order first measured. */
  metrics: Record<string, number>
}

/** One row: a scenario's fleet server against one of its anchors. */
export interface RowResult {
  /** Scenario name. */
  scenario: string
  /** Anchor label. */
  anchor: string
  protocol: Protocol
  fleet?: SideSummary | undefined
  anchorSide?: SideSummary | undefined
  /** Why the row has no figures (tool missing, server did not start...). */
  error?: string | undefined
  /** The error is a failure (server crash, tool error), not a skipped measurement (tool missing). */
  failed?: boolean | undefined
  /** The scenario's own notes. */
  notes?: string | undefined
  /** The least ratio the row must reach (the anchor's `goal`). */
  goal?: number | undefined
}

export const TABLE_HEADER = ['scenario', 'fleet req/s', 'anchor req/s', 'ratio', 'ratio spread', 'goal', 'verdict', 'notes'] as const

/** A row's per-round ratios may spread this much (±, a fraction) for its goal to get a verdict. */
export const NOISE_LIMIT = 0.05

/** A row's ratio: the median of its per-round ratios, their `spread()`, and the ratios, in round order. */
export interface RowRatio {
  ratio: number
  spread: number
  runs: number[]
}

/** The ratio of a row from its two sides' req/s in each round (`NaN`s without both sides). */
export function rowRatio (row: Pick<RowResult, 'fleet' | 'anchorSide'>): RowRatio {
  const runs = roundRatios(row.fleet?.rpsRuns ?? [], row.anchorSide?.rpsRuns ?? [])
  return { ratio: median(runs), spread: spread(runs), runs }
}

/**
 * The verdict on a goal: `''` without a goal, `'—'` without a ratio; `'met'` or `'missed'` only when
 * the figure's spread is known and within `NOISE_LIMIT`, else `'noisy (±x %)'` (`'noisy (one round)'`
 * when there is no spread to tell). `atMost`: the goal is a ceiling (a latency), not a floor.
 */
export function verdict (value: number, valueSpread: number, goal: number | undefined, atMost = false): string {
  if (goal === undefined) return ''
  if (!Number.isFinite(value)) return '—'
  if (!Number.isFinite(valueSpread)) return 'noisy (one round)'
  if (valueSpread > NOISE_LIMIT) return `noisy (${formatSpread(valueSpread)})`
  return (atMost ? value <= goal : value >= goal) ? 'met' : 'missed'
}

/** A goal as `'≥ 0.97×'` (`'≤ 1.2×'` for a ceiling); `''` without one. */
export function formatGoal (goal: number | undefined, atMost = false): string {
  return goal === undefined ? '' : `${atMost ? '≤' : '≥'} ${goal}×`
}

/** Summarises the measured loads of one server. */
export function summarize (runs: readonly LoadResult[]): SideSummary {
  const rpsRuns = runs.map((r) => r.rps)
  return {
    rps: median(rpsRuns),
    rpsRuns,
    p99Ms: median(runs.map((r) => r.p99Ms)),
    meanMs: median(runs.map((r) => r.meanMs)),
    spread: spread(rpsRuns),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    protocols: [...new Set(runs.flatMap((r) => r.protocol === undefined ? [] : [r.protocol]))],
    metrics: Object.fromEntries([...new Set(runs.flatMap((r) => Object.keys(r.metrics ?? {})))]
      .map((label) => [label, median(runs.map((r) => r.metrics?.[label] ?? Number.NaN))]))
  }
}

/** The row name: `<scenario> vs <anchor>` (just the scenario when the anchor is empty). */
export function rowName (row: Pick<RowResult, 'scenario' | 'anchor'>): string {
  return row.anchor === '' ? row.scenario : `${row.scenario} vs ${row.anchor}`
}

/**
 * The notes cell: latency, spread of each side's req/s over the rounds, failures, the scenario's metrics, protocol surprises,
 * the scenario's notes; or the error.
 */
export function rowNotes (row: RowResult): string {
  const notes: string[] = []
  const { fleet, anchorSide: anchor } = row
  if (row.error !== undefined) {
    notes.push(row.error)
  } else if (fleet !== undefined && anchor !== undefined) {
    if (Number.isFinite(fleet.p99Ms) && Number.isFinite(anchor.p99Ms)) {
      notes.push(`p99 ${formatMs(fleet.p99Ms)} / ${formatMs(anchor.p99Ms)}`)
    } else if (Number.isFinite(fleet.meanMs) && Number.isFinite(anchor.meanMs)) {
      notes.push(`mean latency ${formatMs(fleet.meanMs)} / ${formatMs(anchor.meanMs)}`)
    }
    if (Number.isFinite(fleet.spread) || Number.isFinite(anchor.spread)) {
      notes.push(`req/s spread ${formatSpread(fleet.spread)} / ${formatSpread(anchor.spread)}`)
    }
    notes.push(`failed ${fleet.failures} / ${anchor.failures}`)
    for (const label of new Set([...Object.keys(fleet.metrics), ...Object.keys(anchor.metrics)])) {
      notes.push(`${label} ${formatFigure(fleet.metrics[label] ?? Number.NaN)} / ${formatFigure(anchor.metrics[label] ?? Number.NaN)}`)
    }
    if (row.protocol === 'h2') {
      for (const [who, side] of [['fleet', fleet], ['anchor', anchor]] as const) {
        // `h2c` is HTTP/2 too: h2load's name for it over `http:` (prior knowledge).
        const other = side.protocols.filter((p) => p !== 'h2' && p !== 'h2c')
        if (other.length > 0) notes.push(`${who} negotiated ${other.join(', ')}, not h2`)
      }
    }
  }
  if (row.notes !== undefined && row.notes !== '') notes.push(row.notes)
  return notes.join('; ')
}

/** The cells of a row (`TABLE_HEADER`), formatted. */
export function rowCells (row: RowResult): string[] {
  const { ratio, spread } = rowRatio(row)
  return [
    rowName(row),
    formatRps(row.fleet?.rps ?? Number.NaN),
    formatRps(row.anchorSide?.rps ?? Number.NaN),
    formatRatio(ratio),
    formatSpread(spread),
    formatGoal(row.goal),
    verdict(ratio, spread, row.goal),
    rowNotes(row)
  ]
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')

/**
 * A Markdown table with padded columns (readable in a terminal as it is); numeric columns are
 * right-aligned when `rightAligned` says so. Pipes in cells are escaped, newlines become spaces.
 */
export function formatTable (header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const cells = [header, ...rows].map((r) => header.map((_, i) => escapeCell(r[i] ?? '')))
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)))
  const right = new Set(rightAligned)
  const line = (r: string[]): string =>
    `| ${r.map((c, i) => right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => right.has(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)).join(' | ')} |`
  const [head, ...body] = cells
  return [line(head!), rule, ...body.map(line)].join('\n')
}

/** The results table of a run. */
export function resultsTable (rows: readonly RowResult[]): string {
  return formatTable(TABLE_HEADER, rows.map(rowCells), [1, 2, 3, 4])
}
