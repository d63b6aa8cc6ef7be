import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify from 'fastify'
import { test } from 'tap'
import { MemoryStore } from '../../plugins/session/index.js'

const HOUR = 3_600_000

function clock (): { now: () => number, advance: (ms: number) => void } {
  let time = Date.UTC(2030, 0, 1)
  return { now: () => time, advance: (ms) => { time += ms } }
}

test('bounded by maxEntries (default 10000), least recently used out first', async (t) => {
  const store = new MemoryStore()
  for (let i = 0; i <= 10_000; i++) await store.set(`s${i}`, { i })
  t.equal(await store.length(), 10_000)
  t.equal(await store.get('s0'), null, 'the oldest went')
  t.strictSame(await store.get('s1'), { i: 1 })

  const small = new MemoryStore({ maxEntries: 3 })
  for (const sid of ['a', 'b', 'c']) await small.set(sid, { sid })
  await small.get('a')
  await small.set('d', { sid: 'd' })
  t.strictSame((await small.ids()).sort(), ['a', 'c', 'd'], 'b was the least recently used')
})

test('maxBytes bounds the stored characters', async (t) => {
  const store = new MemoryStore({ maxBytes: 100 })
  const session = (n: number): Record<string, string> => ({ p: 'x'.repeat(n) }) // {"p":"…"} = n + 8 characters
  await store.set('a', session(40)) // 1 + 48
  await store.set('b', session(40)) // 1 + 48 = 98 in all
  t.equal(await store.length(), 2)
  await store.set('c', session(10))
  t.strictSame((await store.ids()).sort(), ['b', 'c'], 'a made room')
  await store.set('d', session(91)) // 1 + 99 = 100: fits alone
  t.strictSame(await store.ids(), ['d'])
  await t.rejects(store.set('e', session(92)), { code: 'FST_FLEET_SESSION_TOO_LARGE', message: 'fastify-fleet/session: the serialized session takes 101 bytes, more than maxBytes (100)' })
  t.strictSame(await store.ids(), ['d'], 'a refused session evicts nothing')
  await t.rejects(store.set('d', session(92)), { code: 'FST_FLEET_SESSION_TOO_LARGE' })
  t.strictSame(await store.get('d'), session(91), 'nor replaces what was there')
})

test('expired entries are not counted, and length/ids drop them', async (t) => {
  const c = clock()
  const store = new MemoryStore({ now: c.now })
  await store.set('short', { cookie: { expires: new Date(c.now() + 1000) } })
  await store.set('long', { cookie: { expires: new Date(c.now() + HOUR) } })
  t.equal(await store.length(), 2)
  c.advance(1000)
  t.equal(await store.length(), 1)
  t.strictSame(await store.ids(), ['long'])
  c.advance(HOUR)
  t.strictSame(await store.ids(), [])
})

test('no timer: nothing keeps the process alive', async (t) => {
  const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap')
  const before = handles()
  const store = new MemoryStore({ maxEntries: 10 })
  await store.set('a', { cookie: { expires: new Date(Date.now() + 1000) } })
  await store.get('a')
  await store.touch('a', { cookie: { expires: new Date(Date.now() + 2000) } })
  t.strictSame(handles(), before)
})

test('close empties the store and refuses later calls', async (t) => {
  const store = new MemoryStore()
  await store.set('a', { user: 'ada' })
  await store.close()
  await t.rejects(store.get('a'), { code: 'FST_FLEET_SESSION_CLOSED', message: 'fastify-fleet/session: get on a closed store' })
  await t.rejects(store.length(), { code: 'FST_FLEET_SESSION_CLOSED' })
})

test('usable as the store of @fastify/session as it is typed', async (t) => {
  const store = new MemoryStore()
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: 'x'.repeat(32), store, cookie: { secure: false } })
  app.get('/', async (request) => {
    request.session.set('n' as never, 1 as never)
    return 'ok'
  })
  t.teardown(() => app.close())
  const res = await app.inject('/')
  t.equal(res.statusCode, 200)
  t.equal(await store.length(), 1)
})
