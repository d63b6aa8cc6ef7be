// IPC round trip of ClusterStore: a two-worker `startCluster()` cluster whose first worker calls the
// primary in batches of concurrent calls and reports the latency of each call; the second worker
// only exists because a cluster forks at least two, and stays idle. `npm run bench` runs it after
// the scenarios (bench/ipc/run.ts); by hand: `node dist/bench/ipc/round-trip.js` prints the table.
// Settings: IPC_BATCHES (measured batches per series, default 1000), IPC_WARMUP_BATCHES (200),
// IPC_ROUNDS (7: the rounds in which the goal's two series take turns).
// Every series is bounded by its batch count; the harness kills the cluster after a deadline.
import cluster from 'node:cluster'
import fastify from 'fastify'
import { startCluster } from 'fastify-fleet/cluster'
import { ClusterStore } from 'fastify-fleet/session'
import { roundOrder } from '../lib/stats.js'
import { BARE_PARSED, ipcSection, percentile, roundBatches, summarizeLatencies, type GoalRound, type IpcBenchResult, type IpcResultMessage, type LatencySummary } from './latency.js'

const RESULT_TOPIC = 'bench:ipc-result'
const ECHO_TOPIC = 'bench:ipc-echo'
/** The key of the bare series' messages: plain `process.send` messages, no bus. */
const BARE = 'benchBare'

const positive = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) throw new RangeError(`${name} must be a whole number from 1 to 1000000`)
  return value
}
const batches = positive('IPC_BATCHES', 1000)
const warmupBatches = positive('IPC_WARMUP_BATCHES', 200)
const rounds = Math.min(positive('IPC_ROUNDS', 7), batches)

/** A session as @fastify/session hands it to the store after a login (the `/me` scenarios' size). */
const SESSION = {
  cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000), secure: true, httpOnly: true, path: '/', sameSite: 'lax', domain: null },
  user: 'bench',
  views: 0
}
const SID = 'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'
/** What the primary answers to a read of that session: the stored text and its expiry. */
const ENTRY = { value: JSON.stringify(SESSION), expiresAt: Date.now() + 86_400_000 }

const logger = {
  info: () => {},
  warn: (obj: Record<string, unknown>, msg: string) => { process.stderr.write(`cluster: ${msg} ${JSON.stringify(obj)}\n`) },
  error: (obj: Record<string, unknown>, msg: string) => { process.stderr.write(`cluster: ${msg} ${JSON.stringify(obj)}\n`) }
}

/** The latency (µs) of each call of `count` batches of `inFlight` concurrent calls after `warmup` unmeasured ones, and their wall time. */
async function measure (inFlight: number, call: () => Promise<unknown>, count: number, warmup: number): Promise<{ latencies: Float64Array, elapsedMs: number }> {
  const latencies = new Float64Array(count * inFlight)
  const batch = async (offset: number | null): Promise<void> => {
    const calls: Promise<void>[] = []
    for (let j = 0; j < inFlight; j++) {
      const start = process.hrtime.bigint()
      calls.push(call().then(() => {
        if (offset !== null) latencies[offset + j] = Number(process.hrtime.bigint() - start) / 1000
      }))
    }
    await Promise.all(calls)
  }
  for (let b = 0; b < warmup; b++) await batch(null)
  const t0 = performance.now()
  for (let b = 0; b < count; b++) await batch(b * inFlight)
  return { latencies, elapsedMs: performance.now() - t0 }
}

/** One series: the warm-up, then `batches` measured batches. */
async function series (label: string, inFlight: number, call: () => Promise<unknown>): Promise<LatencySummary> {
  const { latencies, elapsedMs } = await measure(inFlight, call, batches, warmupBatches)
  return summarizeLatencies(label, inFlight, latencies, elapsedMs)
}

/**
 * The goal's two series, 100 in flight, taking turns: both warmed up, then `rounds` rounds of about
 * `batches / rounds` batches each, the store first in odd rounds and the bare channel first in even
 * ones. Each series' summary is over all its rounds; the rounds' p99s come back too.
 */
async function goalSeries (store: () => Promise<unknown>, bare: () => Promise<unknown>): Promise<{ store: LatencySummary, bare: LatencySummary, goalRounds: GoalRound[] }> {
  const calls = [store, bare]
  for (const call of calls) await measure(100, call, 0, warmupBatches)
  const chunks: Array<Array<{ latencies: Float64Array, elapsedMs: number }>> = [[], []]
  const goalRounds: GoalRound[] = []
  for (let round = 1; round <= rounds; round++) {
    const p99s: number[] = []
    for (const i of roundOrder(round, 2)) {
      const chunk = await measure(100, calls[i]!, roundBatches(batches, rounds, round), 0)
      chunks[i]!.push(chunk)
      p99s[i] = percentile(Float64Array.from(chunk.latencies).sort(), 99)
    }
    goalRounds.push({ storeP99Us: p99s[0]!, bareP99Us: p99s[1]! })
  }
  const summary = (label: string, i: number): LatencySummary => {
    const all = new Float64Array(batches * 100)
    let offset = 0
    for (const c of chunks[i]!) {
      all.set(c.latencies, offset)
      offset += c.latencies.length
    }
    return summarizeLatencies(label, 100, all, chunks[i]!.reduce((sum, c) => sum + c.elapsedMs, 0))
  }
  return { store: summary('ClusterStore get', 0), bare: summary('bare process.send', 1), goalRounds }
}

/**
 * Calls over the bare IPC channel: each call queues `data`, the calls of one event-loop turn leave
 * as one `process.send` message (as the bus batches them), and the primary's answers come back in
 * order in one message. No ids, timeouts, topics or error handling: the floor of any bus on
 * Node's IPC channel, measured the same way.
 */
function bareChannel (data: unknown): () => Promise<unknown> {
  let waiting: Array<(value: unknown) => void> = []
  let head = 0
  let queue: unknown[] = []
  process.on('message', (message: { [BARE]?: unknown[] }) => {
    const answers = message?.[BARE]
    if (answers === undefined) return
    for (const answer of answers) waiting[head++]!(answer)
    if (head === waiting.length) {
      waiting = []
      head = 0
    }
  })
  const flush = (): void => {
    const batch = queue
    queue = []
    process.send?.({ [BARE]: batch })
  }
  return async () => await new Promise((resolve) => {
    waiting.push(resolve)
    queue.push(data)
    if (queue.length === 1) setImmediate(flush)
  })
}

const handle = await startCluster({
  workers: 2,
  listen: { port: 0, host: '127.0.0.1' },
  shutdownTimeout: 1000,
  logger,
  build: () => fastify({ logger: false })
})

if (handle.role === 'primary') {
  handle.bus.handle(ECHO_TOPIC, () => ENTRY)
  cluster.on('message', (worker, message: { [BARE]?: unknown[] }) => {
    const asks = message?.[BARE]
    if (asks !== undefined) worker.send({ [BARE]: asks.map(() => ENTRY) })
  })
  handle.bus.handle(RESULT_TOPIC, (result: IpcBenchResult) => {
    if (process.send !== undefined) process.send({ type: 'ipc-result', result } satisfies IpcResultMessage)
    else console.log(`${ipcSection({ result })}\n`)
    setImmediate(() => { handle.stop().then((code) => process.exit(code), () => process.exit(1)) })
    return true
  })
  // the harness went away: do not outlive it
  process.once('disconnect', () => { handle.stop().then((code) => process.exit(code), () => process.exit(1)) })
} else if (cluster.worker?.id === 1) {
  const store = new ClusterStore()
  await store.set(SID, SESSION)
  if ((await store.get(SID)) === null) throw new Error('the session written to the primary does not read back')
  const bus = handle.app.fleet.bus
  // the request ClusterStore's shared map sends for a read
  const request = { map: 'sessions', op: 'get', key: SID }
  const bare = bareChannel({ k: 'q', t: ECHO_TOPIC, d: request })
  const unloaded = await series('ClusterStore get', 1, () => store.get(SID))
  const goal = await goalSeries(() => store.get(SID), bare)
  const result: IpcBenchResult = {
    batches,
    warmupBatches,
    series: [
      unloaded,
      goal.store,
      await series('bus request', 100, () => bus.request(ECHO_TOPIC, request)),
      goal.bare,
      // the least a store that hands out copies adds per call: parsing each answer's session
      await series(BARE_PARSED, 100, async () => JSON.parse(((await bare()) as { value: string }).value))
    ],
    goalRounds: goal.goalRounds
  }
  await bus.request(RESULT_TOPIC, result)
}
