/**
 * Pure: the results as an SVG bar chart (`bench/RESULTS.svg`): one horizontal bar per row, its
 * ratio, the spread of its per-round ratios as a whisker, its goal as a tick, coloured by verdict
 * (noisy rows grey). Rows without figures get a line of text instead of a bar.
 */
import { formatRatio, formatSpread } from './stats.js'
import { formatGoal, rowName, rowRatio, verdict, type RowResult } from './table.js'

const WIDTH = 1000
const LEFT = 16
/** Where the plot ends: room on the right for the figures written after a bar. */
const PLOT_END = WIDTH - 280
const ROW_HEIGHT = 40
const TOP = 64
/** The axis never goes past this ratio: a longer bar is cut and ends in an arrow. */
const AXIS_CAP = 3

export const CHART_COLORS = { met: '#2e7d32', missed: '#c62828', noisy: '#9e9e9e', none: '#1565c0', goal: '#000000', grid: '#dddddd' } as const

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const num = (n: number): string => String(Math.round(n * 10) / 10)

/** The colour of a row: its verdict's, blue without a goal, grey when noisy. */
function colorOf (result: string): string {
  if (result === 'met') return CHART_COLORS.met
  if (result === 'missed') return CHART_COLORS.missed
  if (result === '') return CHART_COLORS.none
  return CHART_COLORS.noisy
}

/** The axis end: the largest ratio, whisker end or goal, rounded up to a half, from 1.5 to `AXIS_CAP`. */
export function axisMax (rows: readonly RowResult[]): number {
  let max = 1.5
  for (const row of rows) {
    const { ratio, spread } = rowRatio(row)
    if (Number.isFinite(ratio)) max = Math.max(max, ratio * (1 + (Number.isFinite(spread) ? spread : 0)))
    if (row.goal !== undefined) max = Math.max(max, row.goal)
  }
  return Math.min(AXIS_CAP, Math.ceil(max * 2) / 2)
}

/** The SVG file next to a results file: `bench/RESULTS.md` → `bench/RESULTS.svg`. */
export function chartPath (resultsFile: string): string {
  return resultsFile.endsWith('.md') ? `${resultsFile.slice(0, -3)}.svg` : `${resultsFile}.svg`
}

/** The chart of `rows`; `subtitle` (e.g. the date and machine) goes under the title. */
export function resultsChart (rows: readonly RowResult[], subtitle = ''): string {
  const max = axisMax(rows)
  const x = (v: number): number => LEFT + Math.min(Math.max(v, 0), max) / max * (PLOT_END - LEFT)
  const height = TOP + rows.length * ROW_HEIGHT + 24
  const bottom = height - 24
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="20" font-size="15" font-weight="bold">fastify-fleet bench: fleet / anchor ratio (median of the per-round ratios, whisker = their spread)</text>`,
    `<text x="${LEFT}" y="38" fill="#555555">${escapeXml(subtitle)}${subtitle === '' ? '' : ' · '}black tick = goal; ` +
      'green met, red missed, grey noisy (spread over ±5 %: no verdict), blue no goal</text>'
  ]
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    const stroke = v === 1 ? '#888888' : CHART_COLORS.grid
    out.push(`<line x1="${num(x(v))}" y1="${TOP - 8}" x2="${num(x(v))}" y2="${bottom}" stroke="${stroke}"/>`,
      `<text x="${num(x(v))}" y="${TOP - 12}" text-anchor="middle" fill="#555555">${v}×</text>`)
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT
    out.push(`<text x="${LEFT}" y="${y + 12}">${escapeXml(rowName(row))}</text>`)
    const { ratio, spread } = rowRatio(row)
    if (row.error !== undefined || !Number.isFinite(ratio)) {
      out.push(`<text x="${LEFT}" y="${y + 30}" fill="${CHART_COLORS.noisy}">${escapeXml(row.error ?? 'no ratio')}</text>`)
      return
    }
    const result = verdict(ratio, spread, row.goal)
    const color = colorOf(result)
    const barY = y + 18
    out.push(`<rect x="${LEFT}" y="${barY}" width="${num(x(ratio) - LEFT)}" height="14" fill="${color}" fill-opacity="0.8"/>`)
    if (ratio > max) out.push(`<path d="M${num(x(max))} ${barY - 2} l8 9 l-8 9 z" fill="${color}"/>`)
    let textX = x(ratio)
    if (Number.isFinite(spread)) {
      const lo = x(ratio * (1 - spread))
      const hi = x(ratio * (1 + spread))
      const mid = barY + 7
      out.push(`<path d="M${num(lo)} ${mid} H${num(hi)} M${num(lo)} ${mid - 5} V${mid + 5} M${num(hi)} ${mid - 5} V${mid + 5}" stroke="#333333" stroke-width="1.5" fill="none"/>`)
      textX = Math.max(textX, hi)
    }
    // a goal past the axis end has no tick (the text gives it); the text starts past a tick
    if (row.goal !== undefined && row.goal <= max) {
      textX = Math.max(textX, x(row.goal))
      out.push(`<line x1="${num(x(row.goal))}" y1="${barY - 4}" x2="${num(x(row.goal))}" y2="${barY + 18}" stroke="${CHART_COLORS.goal}" stroke-width="2.5"/>`)
    }
    const figures = `${formatRatio(ratio)}${Number.isFinite(spread) ? ` ${formatSpread(spread)}` : ''}` +
      `${row.goal === undefined ? '' : ` · goal ${formatGoal(row.goal)} ${result}`}`
    out.push(`<text x="${num(textX + (ratio > max ? 14 : 6))}" y="${barY + 11}">${escapeXml(figures)}</text>`)
  })
  out.push('</svg>', '')
  return out.join('\n')
}
