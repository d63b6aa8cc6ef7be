import net from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import {
  EXPIRY_PREFIX, fingerprintOf, jsonFlagSerializer, MAX_RELATIVE_LIFETIME, MemcachedStore, memcachedExpiry, type MemjsClientLike
} from '../../plugins/session/stores/memcached.js'
import { FINGERPRINT_TEXT_MAX } from '../../plugins/session/write-elision.js'
import { countingMemjs, memjsClient, startMemcachedServer, textCommand, uniqueMemcachedPrefix } from '../helpers/memcached-server.js'
import { freePort } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const cookie = (maxAge: number | null, now = Date.now()): Record<string, unknown> => ({
  expires: maxAge === null ? null : new Date(now + maxAge),
  originalMaxAge: maxAge,
  path: '/',
  httpOnly: true
})
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const codeOf = async (run: () => Promise<unknown>): Promise<[string | undefined, string] | 'no error'> =>
  await run().then(() => 'no error' as const, (err: Error & { code?: string }) => [err.code, err.message])

test('options are checked, with coded errors', async (t) => {
  const client = memjsClient(t, `127.0.0.1:${await freePort()}`)
  const invalid = (options: Record<string, unknown>): unknown => {
    try {
      return new MemcachedStore(options as never)
    } catch (err) {
      return [(err as { code: string }).code, (err as Error).message.replace('fastify-fleet/session: invalid option ', '')]
    }
  }
  const code = 'FST_FLEET_SESSION_INVALID_OPTION'
  const notClient = 'client: expected a memjs client (with get(), set(), touch(), delete(), flush(), quit())'
  t.strictSame(invalid({}), [code, "client: give client (a memjs client) or servers ('host:port,host:port')"])
  t.strictSame(invalid({ client, servers: '127.0.0.1:11211' }), [code, 'client: give client or servers, not both'])
  t.strictSame(invalid({ client: 'memcached://127.0.0.1' }), [code, notClient])
  t.strictSame(invalid({ client: { get () {}, set () {} } }), [code, notClient])
  t.strictSame(invalid({ client: null }), [code, notClient])
  t.strictSame(invalid({ client, username: 'ada' }), [code, 'username: only with servers (a client of yours has its own settings)'])
  t.strictSame(invalid({ client, clientOptions: {} }), [code, 'clientOptions: only with servers (a client of yours has its own settings)'])
  t.strictSame(invalid({ servers: '' }), [code, 'servers: expected a non-empty string, got ""'])
  t.strictSame(invalid({ servers: 11211 }), [code, 'servers: expected a non-empty string, got 11211'])
  t.strictSame(invalid({ servers: 'a:1,,b:2' }), [code, 'servers: expected host:port entries separated by commas, got "a:1,,b:2"'])
  t.strictSame(invalid({ servers: 'a:1', password: 42 }), [code, 'password: expected a non-empty string, got 42'])
  t.strictSame(invalid({ servers: 'a:1', clientOptions: 'fast' }), [code, 'clientOptions: expected an object, got "fast"'])
  t.strictSame(invalid({ servers: 'a:1', clientOptions: { retry: 3 } }), [code, 'clientOptions.retry: unknown option'])
  t.strictSame(invalid({ client, prefix: 7 }), [code, 'prefix: expected a string, got 7'])
  t.strictSame(invalid({ client, expiryPrefix: '' }), [code, 'expiryPrefix: expected a non-empty string, got ""'])
  t.strictSame(invalid({ client, prefix: 'sess:', expiryPrefix: 'sess:' }), [code, 'expiryPrefix: must differ from prefix (the two keys of a session would be one)'])
  t.strictSame(invalid({ client, flushOnClear: 'yes' }), [code, 'flushOnClear: expected a boolean, got "yes"'])
  t.strictSame(invalid({ client, url: 'memcached://x' }), [code, 'url: unknown option'])
  t.strictSame(invalid({ client, ttl: 0 }), [code, 'ttl: expected a number ≥ 1, got 0'])
  // a memjs Client fits MemjsClientLike without a cast; every option at once; nothing connects before the first call
  const stores = [
    new MemcachedStore({ client, prefix: '', expiryPrefix: 'x:', flushOnClear: true }),
    new MemcachedStore({
      servers: `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`,
      username: 'ada',
      password: 'secret',
      clientOptions: { retries: 2, retry_delay: 0.1, failover: true, failoverTime: 5, timeout: 1, conntimeout: 1, keepAlive: true, keepAliveDelay: 10, logger: { log () {} } }
    })
  ]
  for (const store of stores) await store.close()
  t.pass('built and closed without a call')
  const typed: MemjsClientLike = client
  t.ok(typed)
})

test('lifetimes over 30 days are sent as Unix times', async (t) => {
  const now = 1_700_000_000_000
  t.equal(memcachedExpiry(now + 1000, now), 1, 'one second')
  t.equal(memcachedExpiry(now + 1, now), 1, 'rounded up')
  t.equal(memcachedExpiry(now - 5000, now), 1, 'never 0, which Memcached reads as "never expires"')
  t.equal(memcachedExpiry(now + 30 * DAY, now), MAX_RELATIVE_LIFETIME, '30 days: still seconds from now')
  t.equal(memcachedExpiry(now + 30 * DAY + 1000, now), (now + 30 * DAY + 1000) / 1000, 'beyond: the Unix time in seconds')
  t.equal(memcachedExpiry(now + 40 * DAY + 1, now), Math.ceil((now + 40 * DAY + 1) / 1000), 'rounded up')

  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const prefix = uniqueMemcachedPrefix('lifetime')
  /** A store of its own (another process, say): closed when the test ends. */
  const fresh = (): MemcachedStore => {
    const store = new MemcachedStore({ servers: `${memcached.host}:${memcached.port}`, prefix })
    t.teardown(() => store.close())
    return store
  }
  const store = fresh()
  const remaining = async (key: string): Promise<number> => Number((await textCommand(memcached.port, `mg ${key} t`)).replace(/^HD t(-?\d+)$/, '$1'))

  await store.set('forty', { cookie: cookie(40 * DAY), user: 'ada' })
  t.equal((await fresh().get('forty'))?.user, 'ada', 'a 40-day session is stored and read back')
  const days = async (key: string): Promise<number> => (await remaining(key)) / (DAY / 1000)
  t.ok(Math.abs(await days(`${prefix}forty`) - 40) < 0.001, 'the session: Memcached drops it in 40 days')
  await store.touch('forty', { cookie: cookie(41 * DAY), user: 'ada' })
  for (const key of [`${prefix}forty`, `${EXPIRY_PREFIX}${prefix}forty`]) {
    t.ok(Math.abs(await days(key) - 41) < 0.001, `refreshed to 41 days: ${key === `${prefix}forty` ? 'the session' : 'its expiry key'} too`)
  }
  await store.destroy('forty')

  await store.set('second', { cookie: cookie(1000), user: 'bob' })
  // (Memcached's clock ticks once a second: the entry may already be gone)
  t.match(await textCommand(memcached.port, `mg ${prefix}second t`), /^(HD t[01]|EN)$/, 'a 1-second session: one second at most')
  await sleep(2100)
  t.equal(await textCommand(memcached.port, `mg ${prefix}second t`), 'EN', 'gone from Memcached 2 s later')
  t.equal(await fresh().get('second'), null, 'no session')
})

test("connect-memcached's layout, and the expiry key next to it", async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const raw = memjsClient(t, servers)
  const prefix = uniqueMemcachedPrefix('layout')
  const store = new MemcachedStore({ servers, prefix, ttl: 300 })
  t.teardown(() => store.close())
  const text = async (key: string): Promise<string | undefined> => (await raw.get(key)).value?.toString()

  const session = { cookie: cookie(HOUR), user: 'ada', views: 2 }
  await store.set('one', session)
  const json = JSON.stringify(session)
  t.equal(await text(`${prefix}one`), json, '<prefix><sid> holds the session JSON, as connect-memcached writes it')
  t.equal(await text(`fleet-expiry:${prefix}one`), undefined, 'its cookie says when it expires: no expiry key')
  const later = cookie(2 * HOUR)
  await store.touch('one', { ...session, cookie: later })
  t.equal(await text(`fleet-expiry:${prefix}one`), `${(later.expires as Date).getTime()}:${fingerprintOf(json)}`,
    'refreshed: fleet-expiry:<prefix><sid> holds the expiry (ms) and the fingerprint of the text')
  t.match(fingerprintOf(json), /^[0-9a-f]{16}$/, 'the first 16 hex digits of its SHA-1')
  t.equal(await textCommand(memcached.port, `mg ${prefix}one f`), 'HD f2', 'flag 2: the memcached package (connect-memcached) reads JSON')

  const before = Date.now()
  await store.set('browser', { cookie: cookie(null), user: 'bob' })
  const [at] = String(await text(`fleet-expiry:${prefix}browser`)).split(':')
  t.ok(Number(at) >= before + 300_000 && Number(at) <= Date.now() + 300_000, 'no cookie expiry: ttl from now')
  t.match(await textCommand(memcached.port, `mg ${prefix}browser t`), /^HD t(299|300)$/, 'and the same lifetime in Memcached')

  const own = new MemcachedStore({ client: raw, prefix, expiryPrefix: `${prefix}expiry:` })
  await own.set('two', session)
  t.equal(await textCommand(memcached.port, `mg ${prefix}two f`), 'HD f0', 'through a memjs client of yours: its flags (0)')
  await own.touch('two', { ...session, cookie: later })
  t.equal(await text(`${prefix}expiry:two`), `${(later.expires as Date).getTime()}:${fingerprintOf(json)}`, 'expiryPrefix')
  const custom = new MemcachedStore({ servers, prefix, serializer: { stringify: (s) => `~${JSON.stringify(s)}`, parse: (s) => JSON.parse(s.slice(1)) } })
  t.teardown(() => custom.close())
  await custom.set('three', session)
  t.equal(await textCommand(memcached.port, `mg ${prefix}three f`), 'HD f0', 'with a serializer of yours: flags 0 (the text may not be JSON)')
  t.equal((await custom.get('three'))?.user, 'ada')

  await store.destroy('one')
  t.strictSame([await text(`${prefix}one`), await text(`fleet-expiry:${prefix}one`)], [undefined, undefined], 'destroy deletes both keys')
})

test('the expiry key counts only for the text it belongs to', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const raw = memjsClient(t, servers)
  const prefix = uniqueMemcachedPrefix('expiry')
  const start = Date.now()
  let clock = start
  const now = (): number => clock
  const writer = new MemcachedStore({ client: raw, prefix, now })
  /** A store of another process: it knows nothing of what `writer` did. */
  const reader = (): MemcachedStore => new MemcachedStore({ client: raw, prefix, now })
  const expiresOf = (session: Record<string, unknown> | null): unknown => (session?.cookie as Record<string, unknown> | undefined)?.expires

  await writer.set('s', { cookie: cookie(HOUR, start), user: 'ada' })
  await writer.get('s')
  await writer.touch('s', { cookie: cookie(3 * HOUR, start), user: 'ada' })
  clock = start + 2 * HOUR
  const touched = await reader().get('s')
  t.strictSame([touched?.user, expiresOf(touched)], ['ada', new Date(start + 3 * HOUR).toISOString()],
    'refreshed by another process, past its cookie: alive, with the refreshed expiry')
  clock = start + 3 * HOUR
  t.equal(await reader().get('s'), null, 'gone once the refreshed expiry has passed')

  // what connect-memcached writes over it: a new text, the expiry key left as it was
  clock = start
  await writer.set('t', { cookie: cookie(HOUR, start), user: 'bob' })
  await writer.get('t')
  await writer.touch('t', { cookie: cookie(3 * HOUR, start) })
  const theirs = { cookie: { ...cookie(2 * HOUR, start), expires: new Date(start + 2 * HOUR).toISOString() }, user: 'bob', views: 1 }
  await raw.set(`${prefix}t`, JSON.stringify(theirs), { expires: 7200 })
  clock = start + HOUR + 1
  t.strictSame(await reader().get('t'), theirs, 'a text rewritten elsewhere: read with its own cookie expiry')
  clock = start + 2 * HOUR
  t.equal(await reader().get('t'), null, 'the stale expiry key (3 h) does not keep it alive past its cookie (2 h)')

  clock = start
  for (const [label, value] of [['no expiry key', null], ['a corrupt expiry key', 'soon'], ['an expiry key of another text', `${start + 3 * HOUR}:0123456789abcdef`]] as const) {
    const sid = `u-${label.length}`
    await raw.set(`${prefix}${sid}`, JSON.stringify({ cookie: { ...cookie(HOUR, start), expires: new Date(start + HOUR).toISOString() }, user: 'cy' }), { expires: 60 })
    if (value !== null) await raw.set(`fleet-expiry:${prefix}${sid}`, value, { expires: 60 })
    clock = start + HOUR - 1
    t.equal((await reader().get(sid))?.user, 'cy', `${label}: alive until its cookie expires`)
    clock = start + HOUR
    t.equal(await reader().get(sid), null, `${label}: not after`)
    clock = start
  }
  const matching = JSON.stringify({ cookie: { ...cookie(HOUR, start), expires: new Date(start + HOUR).toISOString() }, user: 'dan' })
  await raw.set(`${prefix}nan`, matching, { expires: 60 })
  await raw.set(`fleet-expiry:${prefix}nan`, `later:${fingerprintOf(matching)}`, { expires: 60 })
  clock = start + HOUR
  t.equal(await reader().get('nan'), null, 'an expiry key of this text that is not a time: the cookie expiry')
})

test('a refresh is a touch and a set of the expiry key; a session this process has not read is read first', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const counted = countingMemjs(memjsClient(t, `${memcached.host}:${memcached.port}`))
  const prefix = uniqueMemcachedPrefix('refresh')
  const store = new MemcachedStore({ client: counted.client, prefix })
  const other = new MemcachedStore({ client: counted.client, prefix })
  const frozen = new MemcachedStore({ client: counted.client, prefix, disableTouch: true })
  const commands = async (run: () => Promise<unknown>): Promise<string[]> => {
    counted.commands.length = 0
    await run()
    return [...counted.commands]
  }
  const now = Date.now()
  t.strictSame(await commands(() => store.set('s', { cookie: cookie(HOUR, now), user: 'ada' })), ['set'], 'a write: the session alone, its cookie says its expiry')
  t.strictSame(await commands(() => store.set('b', { cookie: cookie(null), user: 'bob' })), ['set', 'set'], 'a cookie without expires: the session and its expiry key')
  t.strictSame(await commands(() => store.touch('s', { cookie: cookie(2 * HOUR, now) })), ['touch', 'set'], 'a refresh of a text this process wrote: one round trip')
  t.strictSame(await commands(() => other.touch('s', { cookie: cookie(3 * HOUR, now) })), ['touch', 'get', 'set'], 'of a text it never saw: read first, for its fingerprint')
  const got = await new MemcachedStore({ client: counted.client, prefix }).get('s')
  t.equal(got?.cookie?.expires, new Date(now + 3 * HOUR).toISOString(), 'either way, another process reads the new expiry')
  // a text longer than write elision keeps is remembered by its fingerprint, taken at the write
  const notes = 'n'.repeat(FINGERPRINT_TEXT_MAX)
  await store.set('long', { cookie: cookie(HOUR, now), notes })
  t.strictSame(await commands(() => store.touch('long', { cookie: cookie(2 * HOUR, now) })), ['touch', 'set'], 'a long text this process wrote: one round trip too')
  const long = await new MemcachedStore({ client: counted.client, prefix }).get('long')
  t.strictSame([long?.cookie?.expires, long?.notes], [new Date(now + 2 * HOUR).toISOString(), notes], 'another process reads its new expiry')
  t.strictSame(await commands(() => other.touch('gone', { cookie: cookie(HOUR, now) })), ['touch', 'get'], 'a missing session: nothing written')
  t.equal(await other.get('gone'), null)
  t.strictSame(await commands(() => frozen.touch('s', { cookie: cookie(4 * HOUR, now) })), [], 'disableTouch: no command')
  t.strictSame(await commands(() => store.get('s')), ['get'], 'a read of a session whose expiry this process knows: one get')
  t.strictSame(await commands(() => other.destroy('s')), ['delete', 'delete'], 'destroy: both keys')
  t.strictSame(await commands(() => store.get('s')), ['get'], 'gone')
  t.strictSame(await commands(() => store.get('s')), ['get', 'get'], 'nothing known: the session and its expiry key')
})

test('Memcached cannot list: length and ids fail with FST_FLEET_SESSION_UNSUPPORTED, clear too without flushOnClear', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const counted = countingMemjs(memjsClient(t, `${memcached.host}:${memcached.port}`))
  const store = new MemcachedStore({ client: counted.client, prefix: uniqueMemcachedPrefix('listing') })
  await store.set('s', { cookie: cookie(HOUR), user: 'ada' })
  counted.commands.length = 0
  const listing = 'fastify-fleet/session: listing the sessions (length, ids) is not supported by MemcachedStore: Memcached has no command that lists its keys'
  t.strictSame(await codeOf(() => store.length()), ['FST_FLEET_SESSION_UNSUPPORTED', listing], 'length')
  t.strictSame(await codeOf(() => store.ids()), ['FST_FLEET_SESSION_UNSUPPORTED', listing], 'ids')
  t.strictSame(await codeOf(() => store.clear()), ['FST_FLEET_SESSION_UNSUPPORTED',
    'fastify-fleet/session: clear is not supported by MemcachedStore: Memcached can only empty the whole server (flush_all); pass flushOnClear: true if it holds nothing else'], 'clear')
  t.strictSame(counted.commands, [], 'no command sent (never flush_all)')
  t.equal((await store.get('s'))?.user, 'ada', 'the sessions are left alone')
})

test('flushOnClear: clear() empties the whole server (a throwaway one here)', async (t) => {
  const server = await startMemcachedServer(t)
  if (server === null) return
  const raw = memjsClient(t, server.servers)
  const store = new MemcachedStore({ servers: server.servers, prefix: 'sess:', flushOnClear: true })
  t.teardown(() => store.close())
  await store.set('a', { cookie: cookie(HOUR), user: 'ada' })
  await store.set('b', { cookie: cookie(HOUR), user: 'bob' })
  await raw.set('not-a-session', 'kept?', { expires: 60 })
  t.equal((await store.get('a'))?.user, 'ada')
  await store.clear()
  t.strictSame([await store.get('a'), await store.get('b')], [null, null], 'the sessions are gone')
  t.equal((await raw.get('not-a-session')).value, null, 'and everything else on the server')
  await store.set('c', { cookie: cookie(HOUR), user: 'cy' })
  t.equal((await store.get('c'))?.user, 'cy', 'the store works on')
})

test('close() quits the client the store made, never yours', async (t) => {
  const server = await startMemcachedServer(t)
  if (server === null) return
  const stats = async (): Promise<Record<string, number>> => {
    const answer = await new Promise<string>((resolve, reject) => {
      let text = ''
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('stats\r\n'))
      socket.on('data', (chunk) => {
        text += chunk.toString()
        if (text.endsWith('END\r\n')) { socket.end(); resolve(text) }
      })
      socket.on('error', reject)
    })
    return Object.fromEntries([...answer.matchAll(/^STAT (\w+) (\d+)\r$/gm)].map(([, name, value]) => [name, Number(value)]))
  }
  /** Client connections open, the one asking left out, once it is `expected` (Memcached counts closes a moment late) or after a second. */
  const open = async (expected: number): Promise<number> => {
    let count = NaN
    for (let i = 0; i < 100 && count !== expected; i++) {
      if (i > 0) await sleep(10)
      count = (await stats()).curr_connections as number - 1
    }
    return count
  }
  // (the probe of startMemcachedServer may not be counted as closed yet: the same count three times)
  const counts: number[] = []
  while (counts.length < 3 || new Set(counts.slice(-3)).size > 1) {
    counts.push((await stats()).curr_connections as number - 1)
    await sleep(10)
  }
  const idle = counts.at(-1) as number

  const unused = new MemcachedStore({ servers: server.servers })
  const connectionsBefore = (await stats()).total_connections as number
  await unused.close()
  t.equal((await stats()).total_connections, connectionsBefore + 1, 'a store never used connects nowhere, not even to close (only the stats call)')

  const owned = new MemcachedStore({ servers: server.servers })
  await owned.set('s', { cookie: cookie(HOUR) })
  t.equal(await open(idle + 1), idle + 1, 'the store made a connection')
  await owned.close()
  t.equal(await open(idle), idle, 'close() quit it')
  t.equal(await owned.close(), undefined, 'idempotent')

  const yours = memjsClient(t, server.servers)
  const store = new MemcachedStore({ client: yours })
  await store.set('s', { cookie: cookie(HOUR), user: 'ada' })
  await store.close()
  t.equal((await yours.get('s')).value?.toString().includes('ada'), true, 'your client still works after close()')
  await sleep(100)
  t.equal(await open(idle + 1), idle + 1, 'and stays connected')
})

test('the memjs settings of the client the store makes', async (t) => {
  const closed = `127.0.0.1:${await freePort()}`
  const timed = async (store: MemcachedStore): Promise<[unknown, number]> => {
    const started = performance.now()
    const outcome = await codeOf(() => store.get('s'))
    await store.close()
    return [Array.isArray(outcome) ? outcome[0] : outcome, performance.now() - started]
  }
  const logged: string[] = []
  const [code, fast] = await timed(new MemcachedStore({ servers: closed, breaker: false }))
  t.equal(code, 'FST_FLEET_SESSION_BACKEND')
  t.ok(fast < 150, `by default a refused connection fails the call at once (${fast.toFixed(0)} ms)`)
  const [again, slow] = await timed(new MemcachedStore({ servers: closed, breaker: false, clientOptions: { retries: 2, retry_delay: 0.3, logger: { log: (line: unknown) => { logged.push(String(line)) } } } }))
  t.equal(again, 'FST_FLEET_SESSION_BACKEND')
  t.ok(slow >= 290, `clientOptions.retries and retry_delay reach memjs (${slow.toFixed(0)} ms)`)
  t.match(logged, [/^MemJS: Server <127\.0\.0\.1:\d+> failed after \(2\) retries/], 'and its logger')

  // SASL: a server that asks for PLAIN and refuses what it gets
  const auth: string[] = []
  const sasl = net.createServer((socket) => {
    socket.on('data', (data) => {
      const opcode = data[1] as number
      const keyLength = data.readUInt16BE(2)
      const body = data.subarray(24 + (data[4] as number), 24 + data.readUInt32BE(8))
      const answer = (status: number, value: string): void => {
        const header = Buffer.alloc(24)
        header[0] = 0x81
        header[1] = opcode
        header.writeUInt16BE(status, 6)
        header.writeUInt32BE(value.length, 8)
        data.copy(header, 12, 12, 16)
        socket.write(Buffer.concat([header, Buffer.from(value)]))
      }
      if (opcode === 0x20) answer(0, 'PLAIN')
      else if (opcode === 0x21) {
        auth.push(`${body.subarray(0, keyLength).toString()} ${JSON.stringify(body.subarray(keyLength).toString())}`)
        answer(0x20, 'Auth failure')
      }
    })
  })
  sasl.listen(0, '127.0.0.1')
  await new Promise((resolve) => sasl.once('listening', resolve))
  t.teardown(() => { sasl.close() })
  const secured = new MemcachedStore({ servers: `127.0.0.1:${(sasl.address() as net.AddressInfo).port}`, username: 'ada', password: 'secret', breaker: false })
  t.match(await codeOf(() => secured.get('s')), ['FST_FLEET_SESSION_BACKEND', /authentication failed/], 'a refused login: a coded error')
  await secured.close()
  t.strictSame(auth, [`PLAIN ${JSON.stringify('\u0000ada\u0000secret')}`], 'username and password reach the server')
})

test('jsonFlagSerializer flags what memjs stores, and leaves the rest as it is', async (t) => {
  const extras = Buffer.from('000000000000003c', 'hex')
  const { value, extras: flagged } = jsonFlagSerializer.serialize(1, 'text', extras)
  t.strictSame([value, flagged.toString('hex'), extras.toString('hex')], ['text', '000000020000003c', '000000000000003c'], 'a set: flag 2 on a copy, its expiry kept')
  const none = Buffer.alloc(0)
  t.equal(jsonFlagSerializer.serialize(0x0e, 'more', none).extras, none, 'append (no flags): untouched')
  const read = Buffer.from('x')
  t.strictSame(jsonFlagSerializer.deserialize(0, read, none), { value: read, extras: none }, 'reads as they are')
})

test('write elision through a Fastify app with rolling: true: memcached commands per request', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const counted = countingMemjs(memjsClient(t, `${memcached.host}:${memcached.port}`))
  const prefix = uniqueMemcachedPrefix('elision')
  const realNow = Date.now
  let shift = 0
  Date.now = () => realNow() + shift
  t.teardown(() => { Date.now = realNow })
  const app = async (): Promise<ReturnType<typeof Fastify>> => {
    const fastify = Fastify()
    await fastify.register(fastifyCookie)
    await fastify.register(fastifySession, {
      secret: 'a secret of at least thirty-two characters, here',
      store: new MemcachedStore({ client: counted.client, prefix, now: () => Date.now() }),
      saveUninitialized: false,
      rolling: true,
      cookie: { secure: false, maxAge: HOUR }
    })
    fastify.post('/login', async (request) => {
      await request.session.regenerate()
      request.session.set('user', 'ada')
      request.session.set('views', 0)
      return { ok: true }
    })
    fastify.get('/me', async (request) => ({ user: request.session.get('user') }))
    fastify.post('/visit', async (request) => {
      request.session.set('views', (request.session.get('views') as number) + 1)
      return { views: request.session.get('views') }
    })
    fastify.post('/logout', async (request) => {
      await request.session.destroy()
      return { ok: true }
    })
    t.teardown(() => fastify.close())
    return fastify
  }
  const one = await app()
  const another = await app()
  let sessionCookie = ''
  const request = async (fastify: typeof one, method: 'GET' | 'POST', url: string): Promise<string[]> => {
    counted.commands.length = 0
    const res = await fastify.inject({ method, url, headers: sessionCookie === '' ? {} : { cookie: sessionCookie } })
    t.equal(res.statusCode, 200, `${method} ${url}`)
    const set = [res.headers['set-cookie'] ?? []].flat()[0]
    if (set !== undefined) sessionCookie = set.split(';')[0] as string
    return [...counted.commands]
  }
  t.strictSame(await request(one, 'POST', '/login'), ['delete', 'delete', 'set', 'set'],
    'login: regenerate() deletes the id before (both keys) and writes the new one; then it is saved with the user')
  t.strictSame(await request(one, 'GET', '/me'), ['get'], 'read, rolling, fresh: one get, no write (the process knows its expiry)')
  t.strictSame(await request(one, 'GET', '/me'), ['get'], 'again')
  t.strictSame(await request(another, 'GET', '/me'), ['get', 'get'], 'the first read in another process: the session and its expiry key')
  t.strictSame(await request(another, 'GET', '/me'), ['get'], 'then one get there too')
  shift = 61_000
  t.strictSame(await request(one, 'GET', '/me'), ['get', 'touch', 'set'], 'past touchAfter (60 s): a refresh, touch + expiry key, never the whole session')
  t.strictSame(await request(one, 'GET', '/me'), ['get'], 'then nothing again')
  t.strictSame(await request(one, 'POST', '/visit'), ['get', 'set'], 'a change: the session written whole, one set')
  t.strictSame(await request(another, 'GET', '/me'), ['get'], 'in the other process, a text it did not know, its cookie ahead: one get still')
  t.strictSame(await request(one, 'POST', '/logout'), ['get', 'delete', 'delete'], 'logout: both keys deleted')
})
