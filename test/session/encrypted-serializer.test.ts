import { createDecipheriv, randomBytes } from 'node:crypto'
import { test } from 'tap'
import { encryptedSerializer, MemoryStore, RECORD_VERSION, TieredStore, type SessionRecord, type StoreLogger } from '../../plugins/session/index.js'
import { MapStore } from '../helpers/session-stores.js'

const K1 = Buffer.alloc(32, 1)
const K2 = Buffer.alloc(32, 2)
const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** A logger that keeps what the store warns about. */
function warnings (): { logger: StoreLogger, codes: string[], messages: string[] } {
  const codes: string[] = []
  const messages: string[] = []
  return {
    codes,
    messages,
    logger: {
      warn: (obj) => { codes.push((obj as { err: { code: string } }).err.code); messages.push((obj as { err: Error }).err.message) },
      error: () => {}
    }
  }
}

/** Record fields `[version, key id, iv, tag, ciphertext]`. */
const fields = (text: string): string[] => (JSON.parse(text) as string).split('.')
/** The record of `fields`. */
const record = (parts: string[]): string => JSON.stringify(parts.join('.'))

test('a record: v1.<key id>.<iv>.<tag>.<ciphertext>, AES-256-GCM with the header as additional data', async (t) => {
  const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] })
  const session = { cookie: { originalMaxAge: null }, user: 'ada', secret: 'the marker 4f1c' }
  const text = serializer.stringify(session)
  t.match(text, /^"v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+"$/)
  t.equal(RECORD_VERSION, 'v1')
  t.notOk(text.includes('ada') || text.includes('marker'), 'no plaintext')
  t.strictSame(serializer.parse(text), session)

  // decrypted by hand, as the docs describe it
  const [version, id, iv, tag, data] = fields(text) as [string, string, string, string, string]
  const decipher = createDecipheriv('aes-256-gcm', K1, Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(`${version}.${id}`))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
  t.equal(plain, JSON.stringify(session))

  const again = serializer.stringify(session)
  t.not(again, text, 'a random IV: the same session encrypts differently every time')
  t.not(fields(again)[2], fields(text)[2])
})

test('keys: Buffer, Uint8Array, base64 or base64url text; the first writes, every one reads', async (t) => {
  const raw = randomBytes(32)
  const forms = [raw, new Uint8Array(raw), raw.toString('base64'), raw.toString('base64url')]
  const texts = forms.map((key) => encryptedSerializer({ keys: [{ id: 'k', key }] }).stringify({ n: 1 }))
  for (const key of forms) {
    const serializer = encryptedSerializer({ keys: [{ id: 'k', key }] })
    t.strictSame(texts.map((text) => serializer.parse(text)), [{ n: 1 }, { n: 1 }, { n: 1 }, { n: 1 }], `${typeof key === 'string' ? 'text' : key.constructor.name} key reads them all`)
  }
  const caller = Buffer.from(K1)
  const serializer = encryptedSerializer({ keys: [{ id: 'k', key: caller }] })
  const text = serializer.stringify({ n: 2 })
  caller.fill(0)
  t.strictSame(serializer.parse(text), { n: 2 }, 'the key is copied: the caller may wipe its buffer')
})

test('key rotation: [k2, k1] reads what k1 wrote, and writes with k2', async (t) => {
  const before = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] })
  const old = before.stringify({ user: 'ada' })
  const after = encryptedSerializer({ keys: [{ id: 'k2', key: K2 }, { id: 'k1', key: K1 }] })
  t.strictSame(after.parse(old), { user: 'ada' })
  const rewritten = after.stringify({ user: 'ada' })
  t.equal(fields(rewritten)[1], 'k2')
  t.throws(() => before.parse(rewritten), { message: 'no key has the record\'s key id "k2"' }, 'the old serializer cannot read the new key')
  const retired = encryptedSerializer({ keys: [{ id: 'k2', key: K2 }] })
  t.throws(() => retired.parse(old), { message: 'no key has the record\'s key id "k1"' }, 'once k1 is dropped, its records read as no session')

  // through a store: a session written under k1 survives the rebuild, and its next write uses k2
  let now = Date.UTC(2030, 0, 1)
  const store1 = new MapStore({ now: () => now, serializer: before })
  const cookie = { expires: new Date(now + HOUR), originalMaxAge: HOUR }
  await store1.set('s', { cookie, user: 'ada' })
  const store2 = new MapStore({ now: () => now, serializer: after })
  for (const [sid, entry] of store1.entries) store2.entries.set(sid, { ...entry })
  const read = await store2.get('s')
  t.equal(read?.user, 'ada', 'still logged in after the rotation')
  now += MINUTE
  await store2.set('s', { ...read, cookie: { expires: new Date(now + HOUR), originalMaxAge: HOUR }, user: 'ada', views: 1 })
  t.equal(fields(store2.entries.get('s')?.text as string)[1], 'k2', 'rewritten with k2')
  t.strictSame((await store2.get('s'))?.views, 1)
})

test('a record that does not decrypt makes parse throw; the store reads it as no session, logged', async (t) => {
  const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] })
  const text = serializer.stringify({ user: 'ada' })
  const [version, id, iv, tag, data] = fields(text) as [string, string, string, string, string]
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const flip = (s: string, at = 0): string => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1)
  const format = 'not an encrypted record (expected "v1.<key id>.<iv>.<tag>.<ciphertext>")'
  const tampered = 'the record does not authenticate under key "k1" (altered, or written with another key of that id)'
  const cases: Array<[string, string, string]> = [
    ['ciphertext', record([version, id, iv, tag, flip(data)]), tampered],
    ['tag', record([version, id, iv, flip(tag), data]), tampered],
    ['iv', record([version, id, flip(iv), tag, data]), tampered],
    ['key id (additional data)', record([version, 'k9', iv, tag, data]), 'no key has the record\'s key id "k9"'],
    ['same key under another id', encryptedSerializer({ keys: [{ id: 'k0', key: K1 }] }).stringify({ user: 'ada' }).replace('.k0.', '.k1.'), tampered],
    ['version', record(['v2', id, iv, tag, data]), format],
    ['ciphertext cut by two bytes', record([version, id, iv, tag, Buffer.from(data, 'base64url').subarray(0, -2).toString('base64url')]), tampered],
    ['cut after the tag', record([version, id, iv, tag]), format],
    ['an extra field', record([version, id, iv, tag, data, 'x']), format],
    ['a short tag', record([version, id, iv, tag.slice(0, 12), data]), format],
    ['a short iv', record([version, id, iv.slice(0, 8), tag, data]), format],
    ['padding', record([version, id, iv, tag, `${data}=`]), format],
    ['a stray character', record([version, id, iv, tag, `${data}!`]), format],
    // the last character of 22 base64url ones carries 4 unused bits: a text that only changes those is refused
    ['unused bits of the tag', record([version, id, iv, tag.slice(0, 21) + (B64URL[B64URL.indexOf(tag.slice(21)) ^ 1] as string), data]), format],
    ['without its quotes', text.slice(1, -1), format],
    ['a lone quote', '"', format],
    ['plain JSON', '{"user":"ada"}', format],
    ['empty', '', format]
  ]
  for (const [what, bad, message] of cases) t.throws(() => serializer.parse(bad), { message }, what)

  const { logger, codes, messages } = warnings()
  const store = new MapStore({ serializer, logger })
  for (const [what, bad] of cases) {
    await store.set('s', { user: 'ada' })
    t.equal((await store.get('s'))?.user, 'ada')
    const entry = store.entries.get('s') as { text: string }
    entry.text = bad
    t.equal(await store.get('s'), null, `${what}: no session`)
  }
  t.equal(codes.length, cases.length)
  t.ok(codes.every((code) => code === 'FST_FLEET_SESSION_CORRUPT'))
  t.equal(messages[0], `fastify-fleet/session: stored session ${messages[0]?.split(' ')[3] as string} is unreadable (it does not parse: ${tampered}); treated as no session`)
})

test('the inner serializer: any Serializer, its errors come through stringify', async (t) => {
  const inner = { stringify: (s: Record<string, unknown>) => `<${String(s.user)}>`, parse: (text: string) => ({ user: text.slice(1, -1) }) }
  const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }], serializer: inner })
  t.strictSame(serializer.parse(serializer.stringify({ user: 'ada' })), { user: 'ada' })
  const bad = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }], serializer: { stringify: () => 42 as unknown as string, parse: JSON.parse } })
  t.throws(() => bad.stringify({}), { name: 'TypeError', message: 'the inner serializer returned number, expected a string' })
  const store = new MemoryStore({ serializer: encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] }) })
  await t.rejects(store.set('s', { n: 1n }), { code: 'FST_FLEET_SESSION_UNSERIALIZABLE' }, 'a BigInt: refused as with JSON')
})

test('invalid options fail with FST_FLEET_SESSION_INVALID_OPTION', async (t) => {
  const cases: Array<[unknown, string]> = [
    [undefined, 'options: expected an object, got undefined'],
    [{ keys: [{ id: 'k', key: K1 }], extra: 1 }, 'extra: unknown option'],
    [{}, 'keys: expected a non-empty array of { id, key }, got undefined'],
    [{ keys: [] }, 'keys: expected a non-empty array of { id, key }, got []'],
    [{ keys: [null] }, 'keys[0]: expected an object, got null'],
    [{ keys: [{ id: 'k', key: K1, use: 'write' }] }, 'keys[0].use: unknown option'],
    [{ keys: [{ key: K1 }] }, 'keys[0].id: expected 1 to 32 of A-Z a-z 0-9 _ -, got undefined'],
    [{ keys: [{ id: '', key: K1 }] }, 'keys[0].id: expected 1 to 32 of A-Z a-z 0-9 _ -, got ""'],
    [{ keys: [{ id: 'a.b', key: K1 }] }, 'keys[0].id: expected 1 to 32 of A-Z a-z 0-9 _ -, got "a.b"'],
    [{ keys: [{ id: 'k'.repeat(33), key: K1 }] }, `keys[0].id: expected 1 to 32 of A-Z a-z 0-9 _ -, got "${'k'.repeat(33)}"`],
    [{ keys: [{ id: 'k', key: K1 }, { id: 'k', key: K2 }] }, 'keys[1].id: "k" is the id of an earlier key'],
    [{ keys: [{ id: 'k', key: Buffer.alloc(16) }] }, 'keys[0].key: expected 32 bytes, got 16'],
    [{ keys: [{ id: 'k', key: 'x'.repeat(32) }] }, 'keys[0].key: expected the base64 text of 32 bytes (44 characters, or 43 unpadded)'],
    [{ keys: [{ id: 'k', key: Buffer.alloc(24).toString('base64') }] }, 'keys[0].key: expected the base64 text of 32 bytes (44 characters, or 43 unpadded)'],
    [{ keys: [{ id: 'k', key: 42 }] }, 'keys[0].key: expected a Buffer of 32 bytes or its base64 text, got 42'],
    [{ keys: [{ id: 'k', key: K1 }], serializer: { stringify: JSON.stringify } }, 'serializer: expected an object with stringify() and parse() functions']
  ]
  for (const [options, reason] of cases) {
    t.throws(() => encryptedSerializer(options as never), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: `fastify-fleet/session: invalid option ${reason}` }, reason)
  }
})

/** What @fastify/session sets with `rolling` after reading `got`: the same data, the cookie's expiry moved on. */
const rolled = (got: SessionRecord | null, now: number, extra: Record<string, unknown> = {}): SessionRecord =>
  ({ ...got, ...extra, cookie: { ...got?.cookie, expires: new Date(now + HOUR), originalExpires: got?.cookie?.expires } })

test('write elision on an encrypted store: unchanged sessions are rewritten (a lost optimisation), changes always land', async (t) => {
  for (const encrypted of [false, true]) {
    let now = Date.UTC(2030, 0, 1)
    const serializer = encrypted ? encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] }) : undefined
    const store = new MapStore({ now: () => now, ...(serializer === undefined ? {} : { serializer }) })
    const label = encrypted ? 'encrypted' : 'JSON'
    await store.set('s', { cookie: { expires: new Date(now + HOUR), originalMaxAge: HOUR }, user: 'ada', views: 0 })
    store.takeCalls()
    const calls: string[][] = []
    for (let i = 1; i <= 6; i++) {
      now += 1000
      const got = await store.get('s')
      // requests 1-3: rolling, unchanged; 4-6: each one changes the data
      await store.set('s', rolled(got, now, i > 3 ? { views: i } : {}))
      calls.push(store.takeCalls())
      const stored = await store.get('s')
      store.takeCalls()
      t.equal(stored?.views, i > 3 ? i : 0, `${label} request ${i}: the store holds what was set`)
    }
    t.strictSame(calls, encrypted
      ? [['read', 'write'], ['read', 'write'], ['read', 'write'], ['read', 'write'], ['read', 'write'], ['read', 'write']]
      : [['read'], ['read'], ['read'], ['read', 'write'], ['read', 'write'], ['read', 'write']], `${label}: backend calls per request`)
    // non-rolling (a browser-session cookie) unchanged: the same
    await store.set('b', { cookie: { originalMaxAge: null }, user: 'bob' })
    await store.set('b', { ...await store.get('b') })
    store.takeCalls()
    await store.set('b', { ...await store.get('b') })
    t.strictSame(store.takeCalls(), encrypted ? ['read', 'write'] : ['read'], `${label}: a browser-session cookie, unchanged`)
  }
})

test('encryptions per rolled request on an encrypted store: two with write elision (its comparison, then the write), one without', async (t) => {
  for (const writeElision of [true, false]) {
    let now = Date.UTC(2030, 0, 1)
    const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] })
    const counts = { stringify: 0, parse: 0 }
    const counted = {
      stringify: (s: Record<string, unknown>) => { counts.stringify++; return serializer.stringify(s) },
      parse: (text: string) => { counts.parse++; return serializer.parse(text) }
    }
    const store = new MapStore({ now: () => now, serializer: counted, writeElision })
    await store.set('s', { cookie: { expires: new Date(now + HOUR), originalMaxAge: HOUR }, user: 'ada' })
    counts.stringify = 0
    now += 1000
    await store.set('s', rolled(await store.get('s'), now))
    t.strictSame({ ...counts, calls: store.takeCalls() }, { stringify: writeElision ? 2 : 1, parse: 1, calls: ['write', 'read', 'write'] }, `writeElision: ${String(writeElision)}`)
  }
})

test('TieredStore over an encrypted store: near copies stay encrypted, a rolled session becomes a touch, a change a write', async (t) => {
  let now = Date.UTC(2030, 0, 1)
  const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: K1 }] })
  const inner = new MapStore({ now: () => now, serializer })
  const tiered = new TieredStore({ store: inner, invalidation: false, near: { ttl: 600 } })
  await tiered.set('s', { cookie: { expires: new Date(now + HOUR), originalMaxAge: HOUR }, user: 'ada', views: 0 })
  inner.takeCalls()
  const calls: string[][] = []
  for (let i = 1; i <= 4; i++) {
    now += i === 2 ? 2 * MINUTE : 1000
    const got = await tiered.get('s')
    t.equal(got?.user, 'ada')
    await tiered.set('s', rolled(got, now, i === 4 ? { views: 4 } : {}))
    calls.push(inner.takeCalls())
  }
  t.strictSame(calls, [[], ['refresh'], [], ['write']], 'near hits; within touchAfter nothing, past it a touch; a change is written')
  t.equal((await tiered.get('s'))?.views, 4)
  t.match(inner.entries.get('s')?.text, /^"v1\.k1\./)
  await tiered.close()
})
