import { autocannonVersion, runAutocannon } from './autocannon.js'
import type { BenchConfig } from './config.js'
import { h2loadVersion, runH2load } from './h2load.js'
import { ToolMissingError, type LoadParams, type LoadResult } from './load.js'
import { processTreeCpu } from './process-cpu.js'
import { resolveRequest, type LoadMetric, type LoadRequest, type Protocol, type Scenario, type ScenarioSetup, type Target } from './scenario.js'
import { startServer, type ServerProcess } from './server-process.js'
import { formatFigure, formatRps, formatMs, roundOrder } from './stats.js'
import { summarize, type RowResult } from './table.js'

/** A load generator for one protocol. */
export interface Loader {
  tool: string
  /** How to install it, shown when it is missing. */
  install: string
  /** The tool's version, `null` when not installed. */
  version: () => Promise<string | null>
  run: (target: Target, request: LoadRequest, params: LoadParams, signal?: AbortSignal) => Promise<LoadResult>
}

export const LOADERS: Record<Protocol, Loader> = {
  h2: { tool: 'h2load', install: 'apt-get install nghttp2-client', version: h2loadVersion, run: runH2load },
  h1: { tool: 'autocannon', install: 'npm install --save-dev autocannon', version: async () => autocannonVersion(), run: runAutocannon }
}

export interface RunContext {
  config: BenchConfig
  /** `dist/bench/servers/`, for server modules given as file names. */
  serversDir: URL
  /** Tool versions by protocol (`null` = missing), from `LOADERS[p].version()`. */
  tools: Record<Protocol, string | null>
  signal: AbortSignal
  /** Progress lines (stderr). */
  log: (line: string) => void
}

const errorRows = (scenario: Scenario, error: string, failed: boolean): RowResult[] =>
  scenario.anchors.map((a) => ({ scenario: scenario.name, anchor: a.label, protocol: scenario.protocol, error, failed, notes: scenario.notes, goal: a.goal }))

/** The label of the figure every load gets where `/proc` can be read: the server's CPU per request. */
export const SERVER_CPU = 'server CPU µs/request'

/**
 * Runs `load` with the scenario's metrics taken around it, and the CPU the server process and its
 * children (a cluster's workers) used during it over its successful requests; the figures land in
 * the result's `metrics`.
 */
async function measured (metrics: readonly LoadMetric[], target: Target, serverPid: number, load: () => Promise<LoadResult>): Promise<LoadResult> {
  const ends = []
  for (const metric of metrics) ends.push(await metric.start(target))
  const cpuBefore = processTreeCpu(serverPid)
  const result = await load()
  const cpuAfter = processTreeCpu(serverPid)
  const figures: Record<string, number> = {}
  if (cpuBefore !== null && cpuAfter !== null && result.requests > 0) figures[SERVER_CPU] = (cpuAfter - cpuBefore) * 1e6 / result.requests
  for (const [i, metric] of metrics.entries()) figures[metric.label] = await ends[i]!(result)
  return { ...result, metrics: figures }
}

/**
 * Runs one scenario: runs its `setup()`, starts its servers one after the other (fleet first, so a dev
 * certificate made on the first run is cached before the anchors read it), warms each up, then loads
 * them in turn for `rounds` rounds, odd rounds fleet first (fleet, anchor 1, …, anchor n), even rounds
 * the reverse (anchor n, …, anchor 1, fleet), with the setup's metrics taken around each measured load,
 * stops them and runs the setup's `teardown()`. One row per anchor; its ratio is computed from the
 * req/s of each round (`rowRatio`). A missing tool or a failure gives rows that say why instead of throwing; an abort throws.
 */
export async function runScenario (scenario: Scenario, ctx: RunContext): Promise<RowResult[]> {
  const { config, signal, log } = ctx
  const loader = LOADERS[scenario.protocol]
  if (ctx.tools[scenario.protocol] === null) {
    log(`[${scenario.name}] skipped: ${loader.tool} not installed`)
    return errorRows(scenario, `not measured: ${loader.tool} not installed (${loader.install})`, false)
  }

  const entries = [{ label: 'fleet', entry: scenario.fleet }, ...scenario.anchors.map((a) => ({ label: a.label, entry: a }))]
  const scheme = scenario.scheme ?? 'https'
  const params: LoadParams = { duration: config.duration, connections: config.connections, streams: config.streams }
  const servers: ServerProcess[] = []
  const runs: LoadResult[][] = entries.map(() => [])
  let setup: ScenarioSetup = {}
  try {
    if (scenario.setup !== undefined) setup = await scenario.setup()
    const requests: LoadRequest[] = []
    const targets: Target[] = []
    for (const { label, entry } of entries) {
      signal.throwIfAborted()
      const server = await startServer(label, { ...entry, env: { ...setup.env, ...entry.env } }, ctx.serversDir)
      servers.push(server)
      const target: Target = { scheme, host: '127.0.0.1', port: server.port, origin: `${scheme}://127.0.0.1:${server.port}` }
      const base = resolveRequest(scenario.request)
      targets.push(target)
      requests.push(scenario.prepare === undefined ? base : resolveRequest(base, await scenario.prepare(target, base, label)))
    }
    log(`[${scenario.name}] ${servers.map((s) => `${s.label} pid ${s.pid}${s.servingPid === s.pid ? '' : ` (serving pid ${s.servingPid})`} port ${s.port}`).join(', ')}`)

    const load = async (i: number, duration: number): Promise<LoadResult> => {
      const server = servers[i]!
      if (!server.alive()) throw new Error(`${server.label} server exited during the run`)
      return await loader.run(targets[i]!, requests[i]!, { ...params, duration }, signal)
    }
    if (config.warmup > 0) {
      for (let i = 0; i < entries.length; i++) await load(i, config.warmup)
    }
    for (let round = 1; round <= config.rounds; round++) {
      for (const i of roundOrder(round, entries.length)) {
        const result = await measured(setup.metrics ?? [], targets[i]!, servers[i]!.servingPid, () => load(i, config.duration))
        runs[i]!.push(result)
        const latency = Number.isFinite(result.p99Ms) ? `p99 ${formatMs(result.p99Ms)}` : `mean ${formatMs(result.meanMs)}`
        const figures = Object.entries(result.metrics ?? {}).map(([label, value]) => `, ${label} ${formatFigure(value)}`).join('')
        log(`[${scenario.name}] round ${round}/${config.rounds} ${entries[i]!.label}: ${formatRps(result.rps)} req/s, ${latency}, ${result.failures} failed${figures}`)
      }
    }
  } catch (err) {
    if (signal.aborted) throw err
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof ToolMissingError) {
      // e.g. a backend the scenario's setup starts is not installed: skipped, not failed
      log(`[${scenario.name}] skipped: ${message}`)
      return errorRows(scenario, `not measured: ${message}`, false)
    }
    log(`[${scenario.name}] failed: ${message}`)
    return errorRows(scenario, `failed: ${message}`, true)
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await setup.teardown?.().catch((err: unknown) => {
      log(`[${scenario.name}] teardown failed: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  const fleet = summarize(runs[0]!)
  return scenario.anchors.map((a, j) => ({
    scenario: scenario.name,
    anchor: a.label,
    protocol: scenario.protocol,
    fleet,
    anchorSide: summarize(runs[j + 1]!),
    notes: scenario.notes,
    goal: a.goal
  }))
}
