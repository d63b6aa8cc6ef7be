// startCluster against PM2 cluster mode beyond throughput: start time, memory, and failed requests
// during a rolling restart under steady load (SIGHUP to the startCluster primary; `pm2 reload <name>`),
// the same app and 2 workers on both (see section.ts for the method). `npm run bench` runs it after
// the scenarios (`PM2_COMPARE_SECTION`: the child sends its result over IPC); by hand,
// `npm run build && node dist/bench/pm2/compare.js` prints the section. Every load is bounded; the
// servers listen on 127.0.0.1; whatever this process started is stopped on exit, on SIGTERM/SIGINT
// and when the harness goes away (IPC disconnect), PM2's daemon included.
import { readFileSync } from 'node:fs'
import { freePort } from '../lib/cluster-serve.js'
import { readConfig } from '../lib/config.js'
import { LOADERS } from '../lib/runner.js'
import { readProcStats } from '../lib/process-cpu.js'
import { resolveRequest, type Protocol, type Target } from '../lib/scenario.js'
import { killAllServersSync, startServer } from '../lib/server-process.js'
import { childPids, parseRss } from './ecosystem.js'
import { errorLog, pm2Cluster, PM2_VERSION, type Pm2Cluster } from './pm2.js'
import { pm2CompareSection, type ManagerResult, type MeasuredManager, type Pm2CompareMessage, type ReloadRun } from './section.js'

const WORKERS = 2
/** Seconds of each back-to-back load during a restart. */
const RUN_SECONDS = 3
/** Back-to-back loads at most while a restart is under way (then it counts as not done). */
const MAX_RUNS = 10
const config = readConfig(process.env)
const request = resolveRequest({ path: '/' })
const params = { duration: RUN_SECONDS, connections: config.connections, streams: config.streams }
const LOAD_NAMES: Record<Protocol, string> = { h2: 'h2load (HTTP/2)', h1: 'autocannon (HTTP/1.1 TLS)' }

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const rss = (pid: number): number => {
  const value = parseRss(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (value === null) throw new Error(`no VmRSS for pid ${pid}`)
  return value
}
const log = (line: string): void => { process.stderr.write(`[startCluster vs PM2] ${line}\n`) }
const workersOf = (primary: number): number[] => childPids(primary, readProcStats() ?? [])
const targetOf = (port: number): Target => ({ scheme: 'https', host: '127.0.0.1', port, origin: `https://127.0.0.1:${port}` })

/** What the measurement needs of a running manager. */
interface Running {
  primary: number
  port: number
  /** Starts the rolling restart; resolves when the trigger is done (PM2's command returns once it is). */
  restart: () => Promise<void>
}

/**
 * One rolling restart under back-to-back loads of `protocol`: the trigger 1 s into the first, loads
 * until every worker that ran before is gone and `WORKERS` new ones run (and the trigger returned),
 * at most `MAX_RUNS`, then one more on the new workers.
 */
async function restartUnderLoad (running: Running, protocol: Protocol): Promise<ReloadRun> {
  const before = new Set(workersOf(running.primary))
  const result: ReloadRun = { load: LOAD_NAMES[protocol], runs: 0, requests: 0, failures: 0, non2xx: 0, restartMs: null }
  const state = { done: false }
  let triggered = 0
  const restart = sleep(1000).then(async () => {
    triggered = performance.now()
    await running.restart()
    for (let waited = 0; waited < MAX_RUNS * RUN_SECONDS * 1000; waited += 50) {
      const now = workersOf(running.primary)
      if (now.length === WORKERS && now.every((pid) => !before.has(pid))) {
        result.restartMs = performance.now() - triggered
        return
      }
      await sleep(50)
    }
    result.error = 'the old workers still ran when the loads ended'
  }).catch((err: unknown) => { result.error = (err as Error).message }).finally(() => { state.done = true })
  const target = targetOf(running.port)
  while (!state.done && result.runs < MAX_RUNS) await load()
  await restart
  await load()
  return result

  async function load (): Promise<void> {
    result.runs++
    try {
      const r = await LOADERS[protocol].run(target, request, params)
      result.requests += r.requests
      result.failures += r.failures
      result.non2xx += r.non2xx
      log(`${LOAD_NAMES[protocol]} run ${result.runs}: ${r.requests} requests, ${r.failures} failed (${r.non2xx} non-2xx)`)
    } catch (err) {
      // a run that measured nothing (e.g. no worker answered) is reported, and the loads go on
      const message = `run ${result.runs}: ${(err as Error).message}`
      result.error = result.error === undefined ? message : `${result.error}; ${message}`
      log(`${LOAD_NAMES[protocol]} ${message}`)
    }
  }
}

/** Resident memory after a 1 s warm-up, then a restart under each load generator. */
async function measure (running: Running): Promise<Pick<MeasuredManager, 'primaryRss' | 'workerRss' | 'reloads'>> {
  await LOADERS.h2.run(targetOf(running.port), request, { ...params, duration: 1 })
  const workers = workersOf(running.primary)
  if (workers.length !== WORKERS) throw new Error(`${workers.length} workers, not ${WORKERS}`)
  const memory = { primaryRss: rss(running.primary), workerRss: workers.map(rss) }
  const reloads = [await restartUnderLoad(running, 'h2'), await restartUnderLoad(running, 'h1')]
  return { ...memory, reloads }
}

async function startClusterSide (): Promise<ManagerResult> {
  const manager = `startCluster (workers: ${WORKERS})`
  const trigger = 'SIGHUP to the primary'
  try {
    const t0 = performance.now()
    const server = await startServer('startCluster', { module: new URL('../servers/cluster-cpu.js', import.meta.url), env: { WORKERS: String(WORKERS) } }, new URL('../servers/', import.meta.url))
    const startMs = performance.now() - t0
    try {
      const running: Running = { primary: server.pid, port: server.port, restart: async () => { process.kill(server.pid, 'SIGHUP') } }
      return { manager, trigger, startMs, ...await measure(running) }
    } finally {
      await server.stop()
    }
  } catch (err) {
    return { manager, error: (err as Error).message }
  }
}

let pm2: Pm2Cluster | undefined
async function pm2Side (): Promise<ManagerResult> {
  const manager = `${PM2_VERSION} cluster mode (instances: ${WORKERS})`
  try {
    pm2 = pm2Cluster({ instances: WORKERS, port: await freePort() })
    const trigger = `pm2 reload ${pm2.name}`
    const t0 = performance.now()
    await pm2.cli('ping') // launches the daemon: in production it already runs when an app starts
    const t1 = performance.now()
    await pm2.start()
    const startMs = performance.now() - t1
    const primary = pm2.daemonPid()
    if (primary === null) throw new Error('no PM2 daemon')
    const p = pm2
    const running: Running = { primary, port: pm2.port, restart: async () => { await p.cli('reload', p.name) } }
    return { manager, trigger, startMs, ...await measure(running), note: `daemon launch (pm2 ping) ${Math.round(t1 - t0)} ms, not in the start time` }
  } catch (err) {
    const log = pm2 === undefined ? '' : errorLog(pm2)
    return { manager, error: `${(err as Error).message}${log === '' ? '' : ` (${log})`}` }
  } finally {
    pm2?.kill()
  }
}

process.on('exit', () => {
  pm2?.kill()
  killAllServersSync()
})
const stop = (): void => process.exit(1)
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
if (process.send !== undefined) process.once('disconnect', stop)

const results = [await startClusterSide(), await pm2Side()]
if (process.send !== undefined) process.send({ type: 'pm2-compare-result', results } satisfies Pm2CompareMessage)
else console.log(pm2CompareSection({ results }))
process.exit(0)
