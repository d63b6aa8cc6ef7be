// Memory of a MemoryStore after a million distinct sessions, set directly on the store; against
// @fastify/session's own MemoryStore (a Map that never forgets). Not part of `npm run bench`:
//   npm run build && node --expose-gc dist/bench/memory/session-memory.js [sessions] [maxEntries]
// Prints heap and RSS after a full GC every tenth of the way.
import { MemoryStore as FastifyMemoryStore } from '@fastify/session'
import { MemoryStore } from 'fastify-fleet/session'

const total = Number(process.argv[2] ?? 1_000_000)
const maxEntries = Number(process.argv[3] ?? 10_000)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`
function measure (): { heap: number, rss: number } {
  gc?.()
  gc?.()
  const { heapUsed, rss } = process.memoryUsage()
  return { heap: heapUsed, rss }
}

/** A session as @fastify/session hands it to `set` after a login: its cookie and a little data. */
function session (i: number): Record<string, unknown> {
  return {
    cookie: { expires: new Date(Date.now() + 86_400_000), originalMaxAge: 86_400_000, sameSite: 'lax', secure: true, path: '/', httpOnly: true, domain: null },
    user: { id: i, name: `user-${i}`, roles: ['reader'] },
    views: i % 100
  }
}

type Setter = (sid: string, value: Record<string, unknown>) => Promise<void>

async function run (label: string, set: Setter, size: () => Promise<number>): Promise<void> {
  const base = measure()
  console.log(`\n${label}: ${total.toLocaleString('en')} distinct sessions`)
  console.log('sessions set | entries | heap used (Δ) | rss (Δ) | µs per set')
  const step = total / 10
  let started = performance.now()
  for (let i = 1; i <= total; i++) {
    // ids like @fastify/session's: 32 base64url characters
    await set(`${i.toString(36).padStart(8, '0')}${'x'.repeat(24)}`, session(i))
    if (i % step === 0) {
      const perSet = (performance.now() - started) * 1000 / step
      const m = measure()
      console.log(`${i.toLocaleString('en').padStart(12)} | ${String(await size()).padStart(7)} | ${mb(m.heap)} (${mb(m.heap - base.heap)}) | ${mb(m.rss)} (${mb(m.rss - base.rss)}) | ${perSet.toFixed(2)}`)
      started = performance.now()
    }
  }
}

const fleet = new MemoryStore({ maxEntries })
await run(`fastify-fleet MemoryStore (maxEntries ${maxEntries})`, (sid, s) => fleet.set(sid, s), () => fleet.length())
await fleet.close()

if (process.argv.includes('--anchor')) {
  const anchor = new FastifyMemoryStore()
  const map = (anchor as unknown as { store: Map<string, unknown> }).store
  await run('@fastify/session MemoryStore', (sid, s) => new Promise((resolve) => anchor.set(sid, s as never, () => resolve())), async () => map.size)
}
