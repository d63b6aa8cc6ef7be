// IPC round trip of ClusterStore: a two-worker `startCluster()` cluster whose first worker calls the
// primary in batches of concurrent calls and reports the latency of each call; the second worker
// only exists because a cluster forks at least two, and stays idle. `npm run bench` runs it after
// the scenarios (bench/ipc/run.ts); by hand: `node dist/bench/ipc/round-trip.js` prints the table.
// Settings: IPC_BATCHES (measured batches per series, default 1000), IPC_WARMUP_BATCHES (200).
// Every series is bounded by its batch count; the harness kills the cluster after a deadline.
import cluster from 'node:cluster'
import fastify from 'fastify'
import { startCluster } from 'fastify-fleet/cluster'
import { ClusterStore } from 'fastify-fleet/session'
import { BARE_PARSED, ipcSection, summarizeLatencies, type IpcBenchResult, type IpcResultMessage, type LatencySummary } from './latency.js'

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

/** Runs `warmup` then `count` batches of `inFlight` concurrent calls; one latency (µs) per measured call. */
async function series (label: string, inFlight: number, call: () => Promise<unknown>): Promise<LatencySummary> {
  const latencies = new Float64Array(batches * inFlight)
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
  for (let b = 0; b < warmupBatches; b++) await batch(null)
  const t0 = performance.now()
  for (let b = 0; b < batches; b++) await batch(b * inFlight)
  return summarizeLatencies(label, inFlight, latencies, performance.now() - t0)
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
  const result: IpcBenchResult = {
    batches,
    warmupBatches,
    series: [
      await series('ClusterStore get', 1, () => store.get(SID)),
      await series('ClusterStore get', 100, () => store.get(SID)),
      await series('bus request', 100, () => bus.request(ECHO_TOPIC, request)),
      await series('bare process.send', 100, bare),
      // the least a store that hands out copies adds per call: parsing each answer's session
      await series(BARE_PARSED, 100, async () => JSON.parse(((await bare()) as { value: string }).value))
    ]
  }
  await bus.request(RESULT_TOPIC, result)
}
