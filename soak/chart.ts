// The soak's picture: one SVG of four panels over time (requests and failures per second; RSS,
// heap and open descriptors per process), with the soak's events drawn across all of them.
import type { RequestRecord } from './load.js'
import type { ProcessSample, SoakEvent } from './verdict.js'

const WIDTH = 960
const PANEL = 170
const GAP = 40
const LEFT = 70
const RIGHT = 150
const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22']
const EVENT_COLORS: Record<SoakEvent['kind'], string> = { 'rolling restart': '#1f77b4', 'kill -9': '#d62728', 'redis down': '#ff7f0e', 'redis up': '#ff7f0e' }

interface Series { name: string, points: Array<[number, number]>, color: string }

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Requests answered and failed in each second. */
export function perSecond (records: readonly RequestRecord[], seconds: number): { ok: number[], failed: number[] } {
  const ok = new Array<number>(seconds).fill(0)
  const failed = new Array<number>(seconds).fill(0)
  for (const r of records) {
    const s = Math.min(seconds - 1, Math.floor(r.at / 1000))
    if (r.failure === null) ok[s] = (ok[s] as number) + 1
    else failed[s] = (failed[s] as number) + 1
  }
  return { ok, failed }
}

function panel (top: number, title: string, unit: string, series: Series[], seconds: number): string {
  const max = Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => v)))
  const plotWidth = WIDTH - LEFT - RIGHT
  const x = (t: number): number => LEFT + (t / seconds) * plotWidth
  const y = (v: number): number => top + PANEL - (v / max) * PANEL
  const lines = series.map((s, i) => {
    const path = s.points.map(([t, v], n) => `${n === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('')
    return `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.2"/>` +
      `<text x="${WIDTH - RIGHT + 8}" y="${top + 14 + i * 16}" fill="${s.color}" font-size="12">${escape(s.name)}</text>`
  })
  return [
    `<text x="${LEFT}" y="${top - 8}" font-size="13" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL}" fill="none" stroke="#999"/>`,
    `<text x="${LEFT - 6}" y="${top + 10}" font-size="11" text-anchor="end">${max.toFixed(max < 10 ? 1 : 0)}${unit}</text>`,
    `<text x="${LEFT - 6}" y="${top + PANEL}" font-size="11" text-anchor="end">0</text>`,
    ...lines
  ].join('\n')
}

/** The SVG for a run of `seconds` seconds. */
export function soakChart (records: readonly RequestRecord[], samples: readonly ProcessSample[], events: readonly SoakEvent[], seconds: number): string {
  const rate = perSecond(records, seconds)
  const names = [...new Set(samples.map((s) => s.name))].sort()
  const measure = (pick: (s: ProcessSample) => number | null, scale: number): Series[] => names.map((name, i): Series => ({
    name,
    color: COLORS[i % COLORS.length] as string,
    points: samples.filter((s) => s.name === name && pick(s) !== null).map((s) => [s.at / 1000, (pick(s) as number) / scale])
  })).filter((s) => s.points.length > 0)
  const panels = [
    panel(GAP, 'Requests per second', '', [
      { name: 'answered', color: '#2ca02c', points: rate.ok.map((v, s) => [s + 0.5, v]) },
      { name: 'failed', color: '#d62728', points: rate.failed.map((v, s) => [s + 0.5, v]) }
    ], seconds),
    panel(GAP * 2 + PANEL, 'RSS per process', ' MB', measure((s) => s.rss, 1024 * 1024), seconds),
    panel(GAP * 3 + PANEL * 2, 'Heap used per process (workers: as of their last heartbeat)', ' MB', measure((s) => s.heapUsed, 1024 * 1024), seconds),
    panel(GAP * 4 + PANEL * 3, 'Open file descriptors per process', '', measure((s) => s.fds, 1), seconds)
  ]
  const height = GAP * 5 + PANEL * 4
  const plotWidth = WIDTH - LEFT - RIGHT
  const marks = events.map((e) => {
    const x = (LEFT + (e.at / 1000 / seconds) * plotWidth).toFixed(1)
    return `<line x1="${x}" y1="${GAP}" x2="${x}" y2="${height - GAP}" stroke="${EVENT_COLORS[e.kind]}" stroke-dasharray="${e.kind === 'rolling restart' ? '4,3' : '1,0'}" stroke-width="1" opacity="0.6"><title>${escape(e.kind)} at ${(e.at / 1000).toFixed(0)} s</title></line>`
  })
  const legend = (['rolling restart', 'kill -9', 'redis down'] as const).map((kind, i) =>
    `<text x="${LEFT + i * 160}" y="${height - 12}" font-size="12" fill="${EVENT_COLORS[kind]}">| ${kind}${kind === 'redis down' ? ' / up' : ''}</text>`)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...panels,
    ...marks,
    ...legend,
    `<text x="${WIDTH - RIGHT}" y="${height - 12}" font-size="12" text-anchor="end">time (s) 0 – ${seconds}</text>`,
    '</svg>',
    ''
  ].join('\n')
}
