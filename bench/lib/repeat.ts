/**
 * Pure: the parts of `bench/repeat.ts` that need no process: reading the results table back from a
 * run's results file, and `bench/REPEAT.md`, each row's ratio in every run side by side.
 */
import { formatRatio, formatSpread, median, spread } from './stats.js'
import { NOISE_LIMIT, formatTable } from './table.js'

/** One row of a run's results table, as printed. */
export interface ParsedRow {
  name: string
  /** `NaN` when the run printed none (`—`). */
  ratio: number
  /** The ratio spread cell as printed, e.g. `±2.0 %`. */
  spread: string
  /** The goal cell as printed, e.g. `≥ 0.97×` (`''` without a goal). */
  goal: string
  verdict: string
}

/** What a run's results file says about the run itself. */
export interface RunInfo {
  date: string
  loadAverage: string
  runTime: string
}

/** One run: its info and its rows. */
export interface ParsedRun {
  info: RunInfo
  rows: ParsedRow[]
}

/** Whole-number `BENCH_REPEAT` (1–10, default 3); throws a `RangeError` otherwise. */
export function readRepeatCount (env: NodeJS.ProcessEnv): number {
  const raw = env.BENCH_REPEAT?.trim()
  if (raw === undefined || raw === '') return 3
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > 10) throw new RangeError(`BENCH_REPEAT must be a whole number from 1 to 10, got ${JSON.stringify(raw)}`)
  return value
}

/**
 * The `BENCH_*` variables set in `env` (but `BENCH_RESULTS`, which the script sets per run), as they
 * would be typed before the command: `BENCH_ONLY='hello world' BENCH_ROUNDS=2 `; values quoted
 * unless plain.
 */
export function benchVariables (env: NodeJS.ProcessEnv): string {
  return Object.keys(env).filter((k) => k.startsWith('BENCH_') && k !== 'BENCH_RESULTS' && env[k]!.trim() !== '').sort()
    .map((k) => {
      const value = env[k]!.trim()
      return `${k}=${/^[\w.,:/@-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`} `
    }).join('')
}

/** The cells of one Markdown table line, trimmed; `\|` is a pipe inside a cell. */
export function splitCells (line: string): string[] {
  const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/)
  return cells.map((c) => c.trim().replace(/\\\|/g, '|'))
}

const bullet = (markdown: string, label: string): string =>
  markdown.split('\n').find((l) => l.startsWith(`- ${label}: `))?.slice(label.length + 4) ?? '—'

/** The run's date, load average and run time, and the rows of its `## Results` table; throws without that table. */
export function parseResults (markdown: string): ParsedRun {
  const lines = markdown.split('\n')
  const start = lines.indexOf('## Results')
  const table: string[] = []
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) table.push(line)
    else if (table.length > 0) break
  }
  if (start === -1 || table.length < 2) throw new Error('no results table (a "## Results" section with a table)')
  const header = splitCells(table[0]!)
  const column = (name: string): number => {
    const i = header.indexOf(name)
    if (i === -1) throw new Error(`the results table has no "${name}" column`)
    return i
  }
  const [name, ratio, ratioSpread, goal, verdict] = ['scenario', 'ratio', 'ratio spread', 'goal', 'verdict'].map(column) as [number, number, number, number, number]
  const rows = table.slice(2).map(splitCells).map((cells) => ({
    name: cells[name] ?? '',
    ratio: cells[ratio] === '—' ? Number.NaN : Number(cells[ratio]),
    spread: cells[ratioSpread] ?? '',
    goal: cells[goal] ?? '',
    verdict: cells[verdict] ?? ''
  }))
  return { info: { date: bullet(markdown, 'Date'), loadAverage: bullet(markdown, 'Load average (1 / 5 / 15 min)'), runTime: bullet(markdown, 'Run time (without the build)') }, rows }
}

/** How a row's ratios across the runs compare. */
export interface Repeat {
  name: string
  /** The row in each run (`undefined` where a run has no such row). */
  runs: Array<ParsedRow | undefined>
  goal: string
  /** max − min of the ratios (`NaN` unless every run has one). */
  range: number
  /** `spread()` of the ratios (`NaN` unless every run has one). */
  spread: number
  /** Every run has a ratio and their spread is within `NOISE_LIMIT`. */
  repeats: boolean
}

/** Each row (in the order first seen) across `runs`. */
export function compareRuns (runs: readonly ParsedRun[]): Repeat[] {
  const names = [...new Set(runs.flatMap((r) => r.rows.map((row) => row.name)))]
  return names.map((name) => {
    const rows = runs.map((r) => r.rows.find((row) => row.name === name))
    const ratios = rows.map((row) => row?.ratio ?? Number.NaN)
    const complete = ratios.every(Number.isFinite)
    const s = complete ? spread(ratios) : Number.NaN
    return {
      name,
      runs: rows,
      goal: rows.find((row) => row !== undefined && row.goal !== '')?.goal ?? '',
      range: complete ? Math.max(...ratios) - Math.min(...ratios) : Number.NaN,
      spread: s,
      repeats: s <= NOISE_LIMIT
    }
  })
}

const cell = (row: ParsedRow | undefined): string =>
  row === undefined ? 'no row' : `${formatRatio(row.ratio)}${row.spread === '' || row.spread === '—' ? '' : ` (${row.spread})`}`

const percent = (range: number, ratios: number[]): string =>
  Number.isFinite(range) ? `${range.toFixed(2)} (${(range / median(ratios) * 100).toFixed(1)} %)` : '—'

/** The whole `bench/REPEAT.md` for `runs` (one per run, in order). */
export function renderRepeat (runs: readonly ParsedRun[], command: string): string {
  const repeats = compareRuns(runs)
  const header = ['row', ...runs.map((_, i) => `run ${i + 1}`), 'max − min', 'spread of runs', 'goal', 'verdicts', `repeats within ±${NOISE_LIMIT * 100} %`]
  const body = repeats.map((r) => [
    r.name,
    ...r.runs.map(cell),
    percent(r.range, r.runs.map((row) => row?.ratio ?? Number.NaN)),
    formatSpread(r.spread),
    r.goal,
    r.goal === '' ? '' : r.runs.map((row) => row?.verdict ?? '—').join(' / '),
    Number.isFinite(r.range) ? (r.repeats ? 'yes' : runs.length < 2 ? '— (one run)' : 'no') : 'no ratio in every run'
  ])
  const goals = repeats.filter((r) => r.goal !== '')
  const runTable = formatTable(['run', 'date', 'load average (1 / 5 / 15 min) at start, at end', 'run time'],
    runs.map((r, i) => [String(i + 1), r.info.date, r.info.loadAverage, r.info.runTime]))
  return [
    '# Benchmark repeatability',
    '',
    `_Written by \`${command}\` (\`bench/repeat.ts\`); do not edit by hand._`,
    '',
    `The whole bench, run ${runs.length} time${runs.length === 1 ? '' : 's'} in a row with the same code and settings. ` +
      'Each cell is the row\'s ratio in that run (the median of its per-round ratios) with the spread of those ' +
      'per-round ratios. max − min: the largest difference between the runs\' ratios (and as a share of their median); ' +
      'spread of runs: half that range around their median. A row repeats within ' +
      `±${NOISE_LIMIT * 100} % when every run has a ratio and their spread is at most ±${NOISE_LIMIT * 100} %.`,
    '',
    `Rows with a goal that repeat within ±${NOISE_LIMIT * 100} %: ${goals.filter((r) => r.repeats).length} of ${goals.length}; ` +
      `every row: ${repeats.filter((r) => r.repeats).length} of ${repeats.length}.`,
    '',
    formatTable(header, body, runs.map((_, i) => i + 1).concat(runs.length + 1, runs.length + 2)),
    '',
    '## Runs',
    '',
    runTable,
    ''
  ].join('\n')
}
