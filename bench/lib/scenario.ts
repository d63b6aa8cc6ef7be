/**
 * The shape of a benchmark scenario. A scenario module (`bench/scenarios/<name>.ts`) default-exports
 * one `Scenario` or a list of them; `bench/run.ts` finds every compiled module in
 * `dist/bench/scenarios/` and measures each scenario as one row per anchor.
 */
import type { LoadResult } from './load.js'

/** Load generator: `'h1'` = HTTP/1.1 with autocannon, `'h2'` = HTTP/2 with h2load. */
export type Protocol = 'h1' | 'h2'

/** One server to start in its own child process. */
export interface ServerEntry {
  /**
   * Compiled server module: a `URL` (usually `new URL('../servers/x.js', import.meta.url)`)
   * or a file name relative to `dist/bench/servers/`.
   */
  module: URL | string
  /** Extra environment variables for the child process. */
  env?: Record<string, string>
}

/** An anchor: the setup the fleet figure is compared with (a hand-written server, another plugin...). */
export interface AnchorEntry extends ServerEntry {
  /** Short label, shown in the row name: "… vs <label>". */
  label: string
  /**
   * The least ratio (fleet / this anchor) the row must reach, e.g. `0.97`; the table gives it a
   * verdict (met / missed, or noisy when the per-round ratios spread more than ±5 %). None: no verdict.
   */
  goal?: number
}

/** The request every load sends. */
export interface LoadRequest {
  /** @default 'GET' */
  method: string
  /** @default '/' */
  path: string
  /** @default {} */
  headers: Record<string, string>
  /** Request body, if any. */
  body?: string
}

/** Where a load goes: a running server. */
export interface Target {
  scheme: 'https' | 'http'
  host: string
  port: number
  /** `scheme://host:port` without a trailing slash. */
  origin: string
}

export interface Scenario {
  /** Row name, e.g. `'hello-world, HTTP/2'`. */
  name: string
  protocol: Protocol
  /** @default 'https' */
  scheme?: 'https' | 'http'
  /** The request to send; missing fields take the `LoadRequest` defaults. */
  request?: Partial<LoadRequest>
  /**
   * Runs once per started server before any load, e.g. to log in and get a session cookie.
   * What it returns is merged over `request` (headers merged key by key) for loads on that server.
   * `label` says which server it is: `'fleet'` or the anchor's label.
   */
  prepare?: (target: Target, request: LoadRequest, label: string) => Promise<Partial<LoadRequest>>
  /** The fleet setup. */
  fleet: ServerEntry
  /** One or more anchors; each gives one row "fleet vs anchor". */
  anchors: [AnchorEntry, ...AnchorEntry[]]
  /** Printed in the notes column of every row of this scenario. */
  notes?: string
  /**
   * Runs once before the scenario's servers start, e.g. to start a backend they share; see
   * `ScenarioSetup`. A setup that throws fails the scenario's rows.
   */
  setup?: () => Promise<ScenarioSetup>
}

/**
 * A figure taken around each measured load besides req/s, e.g. the commands a backend ran per
 * request. The notes show `<label> <fleet> / <anchor>`, each the median of the rounds.
 */
export interface LoadMetric {
  /** Names the figure in the notes, e.g. `'Redis commands/request'`. */
  label: string
  /**
   * Runs right before each measured load (not the warm-up); resolves to the function that runs
   * right after that load, with its result, and gives the figure of that load.
   */
  start: (target: Target) => Promise<(result: LoadResult) => Promise<number>>
}

/** What a scenario's `setup()` gives the run. */
export interface ScenarioSetup {
  /** Environment variables for every server of the scenario (a server entry's own `env` wins). */
  env?: Record<string, string>
  /** Figures to take around each measured load of every server. */
  metrics?: LoadMetric[]
  /** Runs once the scenario's servers have stopped, also when the scenario failed or was interrupted. */
  teardown?: () => Promise<void>
}

/** What a scenario module default-exports. */
export type ScenarioModule = Scenario | Scenario[]

/** Identity helper that gives scenario files type checking without an explicit annotation. */
export function defineScenarios<T extends ScenarioModule> (scenarios: T): T {
  return scenarios
}

/** The scenarios a module exports, checked enough to fail with a useful message. */
export function scenariosOf (exported: unknown, file: string): Scenario[] {
  const list = Array.isArray(exported) ? exported : [exported]
  return list.map((s: unknown, i) => {
    const where = `${file}${list.length > 1 ? `[${i}]` : ''}`
    if (s === null || typeof s !== 'object') throw new TypeError(`${where}: the default export is not a scenario`)
    const sc = s as Partial<Scenario>
    if (typeof sc.name !== 'string' || sc.name.length === 0) throw new TypeError(`${where}: missing name`)
    if (sc.protocol !== 'h1' && sc.protocol !== 'h2') throw new TypeError(`${where}: protocol must be 'h1' or 'h2'`)
    if (sc.fleet?.module === undefined) throw new TypeError(`${where}: missing fleet server`)
    if (!Array.isArray(sc.anchors) || sc.anchors.length === 0) throw new TypeError(`${where}: needs at least one anchor`)
    if (sc.setup !== undefined && typeof sc.setup !== 'function') throw new TypeError(`${where}: setup must be a function`)
    for (const a of sc.anchors as Array<Partial<AnchorEntry>>) {
      if (a.goal !== undefined && !(typeof a.goal === 'number' && a.goal > 0 && Number.isFinite(a.goal))) {
        throw new TypeError(`${where}: the goal of anchor ${String(a.label)} must be a positive number`)
      }
    }
    return sc as Scenario
  })
}

/** The request of a scenario with its defaults filled in, then `override` merged over it. */
export function resolveRequest (base: Partial<LoadRequest> = {}, override: Partial<LoadRequest> = {}): LoadRequest {
  const request: LoadRequest = {
    method: override.method ?? base.method ?? 'GET',
    path: override.path ?? base.path ?? '/',
    headers: { ...base.headers, ...override.headers }
  }
  const body = override.body ?? base.body
  if (body !== undefined) request.body = body
  return request
}
