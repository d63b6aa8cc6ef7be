// `npm run bench`: runs every scenario in bench/scenarios/, prints one table, writes bench/RESULTS.md
// and its chart, bench/RESULTS.svg.
// Settings: BENCH_DURATION, BENCH_ROUNDS, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_STREAMS, BENCH_ONLY,
// BENCH_RESULTS (see bench/README.md).
import { readdir, writeFile } from 'node:fs/promises'
import { availableParallelism, arch, cpus, loadavg, platform, release } from 'node:os'
import { basename, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { estimateSeconds, readConfig, selects, type BenchConfig } from './lib/config.js'
import { IPC_SECTION, ipcSelected } from './ipc/run.js'
import { PM2_COMPARE_SECTION, pm2CompareSelected } from './pm2/section.js'
import { chartPath, resultsChart } from './lib/chart.js'
import { appendSection, runChildSection, type ChildSection, type SectionOutcome } from './lib/child-section.js'
import { renderReport, type MachineInfo } from './lib/report.js'
import { LOADERS, runScenario } from './lib/runner.js'
import { scenariosOf, type Protocol, type Scenario } from './lib/scenario.js'
import { killAllServersSync, stopAllServers } from './lib/server-process.js'
import { formatDuration } from './lib/stats.js'
import { resultsTable, type RowResult } from './lib/table.js'
import { STALE_SECTION, staleSelected } from './tiered/stale-section.js'

const scenariosDir = new URL('./scenarios/', import.meta.url)
const serversDir = new URL('./servers/', import.meta.url)
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const log = (line: string): void => { process.stderr.write(`${line}\n`) }

/** The micro-benchmarks that run after the scenarios, each in a child process; their sections follow the table. */
const SECTIONS: Array<{ selected: (only: string | undefined) => boolean, spec: ChildSection<any> }> = [
  { selected: ipcSelected, spec: IPC_SECTION },
  { selected: staleSelected, spec: STALE_SECTION },
  { selected: pm2CompareSelected, spec: PM2_COMPARE_SECTION }
]

async function runSections (specs: ReadonlyArray<ChildSection<any>>, signal: AbortSignal): Promise<SectionOutcome[]> {
  const outcomes: SectionOutcome[] = []
  for (const spec of specs) outcomes.push(await runChildSection(spec, signal, log))
  return outcomes
}

/**
 * Every scenario of every compiled module in `dist/bench/scenarios/`, in file-name order, filtered by
 * `BENCH_ONLY`; a module that does not load or export scenarios becomes a failed row.
 */
async function discover (only: string | undefined): Promise<{ scenarios: Scenario[], broken: RowResult[] }> {
  const files = (await readdir(scenariosDir)).filter((f) => f.endsWith('.js')).sort()
  const scenarios: Scenario[] = []
  const broken: RowResult[] = []
  for (const file of files) {
    const source = `bench/scenarios/${file.replace(/\.js$/, '.ts')}`
    try {
      const mod = await import(new URL(file, scenariosDir).href) as { default?: unknown }
      scenarios.push(...scenariosOf(mod.default, source).filter((s) => selects(only, file, s.name)))
    } catch (err) {
      if (!selects(only, file)) continue
      const text = (err as Error).message
      const message = text.startsWith(source) ? text : `${source}: ${text}`
      log(message)
      broken.push({ scenario: source, anchor: '', protocol: 'h1', error: `failed: ${message}`, failed: true })
    }
  }
  return { scenarios, broken }
}

function machineInfo (tools: Record<Protocol, string | null>): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    tools: (Object.keys(LOADERS) as Protocol[]).map((p) => tools[p] ?? `${LOADERS[p].tool}: not installed`),
    loadAverage: { start: loadavg(), end: [] }
  }
}

async function main (config: BenchConfig, signal: AbortSignal): Promise<number> {
  const started = new Date()
  const t0 = performance.now()
  const { scenarios, broken } = await discover(config.only)
  // the micro-benchmarks (bench/ipc/, bench/tiered/, bench/pm2/) run after the scenarios; their sections follow the table
  const sections = SECTIONS.filter((s) => s.selected(config.only)).map((s) => s.spec)
  if (scenarios.length === 0 && broken.length === 0 && sections.length > 0) {
    const outcomes = await runSections(sections, signal)
    for (const outcome of outcomes) process.stdout.write(`\n${outcome.section}\n\n`)
    return outcomes.some((o) => o.failed) ? 1 : 0
  }
  if (scenarios.length === 0 && broken.length === 0) {
    log(`no scenarios${config.only === undefined ? '' : ` match BENCH_ONLY=${config.only}`} in ${fileURLToPath(scenariosDir)}`)
    return 1
  }
  const tools = { h1: await LOADERS.h1.version(), h2: await LOADERS.h2.version() }
  const machine = machineInfo(tools)
  const estimate = scenarios.reduce((sum, s) => sum + estimateSeconds(config, 1 + s.anchors.length), 0)
  log(`${scenarios.length} scenario(s); ${config.rounds} round(s) × ${config.duration} s per server, ` +
    `warm-up ${config.warmup} s; loads take about ${formatDuration(estimate)}`)
  log(`machine: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}; ${machine.tools.join(', ')}; ` +
    `load average ${machine.loadAverage.start.map((l) => l.toFixed(2)).join(' ')}`)

  const rows: RowResult[] = [...broken]
  for (const scenario of scenarios) {
    rows.push(...await runScenario(scenario, { config, serversDir, tools, signal, log }))
  }
  const outcomes = await runSections(sections, signal)
  const elapsedSeconds = (performance.now() - t0) / 1000
  machine.loadAverage.end = loadavg()
  const table = resultsTable(rows)
  process.stdout.write(`\n${table}\n\n`)
  for (const outcome of outcomes) process.stdout.write(`${outcome.section}\n\n`)
  log(`run time ${elapsedSeconds.toFixed(1)} s`)
  if (config.results !== undefined) {
    const file = resolve(repoRoot, config.results)
    const chart = chartPath(file)
    const subtitle = `${started.toISOString().slice(0, 10)}, ${machine.cores} cores, Node ${machine.node}`
    await writeFile(chart, resultsChart(rows, subtitle))
    await writeFile(file, renderReport({ machine, config, date: started, elapsedSeconds, table, chart: basename(chart) }))
    for (const outcome of outcomes) await appendSection(file, outcome)
    log(`wrote ${file} and ${chart}`)
  }
  if (outcomes.some((o) => o.failed)) return 1
  return rows.some((r) => r.failed === true) ? 1 : 0
}

let config: BenchConfig
try {
  config = readConfig(process.env)
} catch (err) {
  log((err as Error).message)
  process.exit(2)
}

const controller = new AbortController()
const onSignal = (signal: NodeJS.Signals): void => {
  if (controller.signal.aborted) {
    killAllServersSync()
    process.exit(130)
  }
  log(`\n${signal}: stopping the load and the servers…`)
  controller.abort(new Error(`interrupted by ${signal}`))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
process.on('exit', killAllServersSync)

try {
  process.exitCode = await main(config, controller.signal)
} catch (err) {
  if (controller.signal.aborted) {
    process.exitCode = 130
  } else {
    log(err instanceof Error ? err.stack ?? err.message : String(err))
    process.exitCode = 1
  }
} finally {
  await stopAllServers()
}
