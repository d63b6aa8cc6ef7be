import { test } from 'tap'
import { FST_FLEET_SESSION_INVALID_OPTION, MemoryStore, type MemoryStoreOptions } from '../../plugins/session/index.js'
import { DEFAULTS, JSON_SERIALIZER, normalizeStoreOptions } from '../../plugins/session/options.js'
import { MEMORY_DEFAULTS } from '../../plugins/session/stores/memory.js'

test('defaults', async (t) => {
  t.strictSame(DEFAULTS, { ttl: 86400, touchAfter: 60, writeElision: true, elisionMemo: 10_000, disableTouch: false, timeout: 2000, breaker: { failures: 5, window: 10, cooldown: 5 }, readPolicy: 'error', serializer: JSON_SERIALIZER, now: Date.now })
  t.strictSame(MEMORY_DEFAULTS, { maxEntries: 10000 })
  const opts = normalizeStoreOptions(undefined)
  t.strictSame(opts, { ttlMs: 86_400_000, touchAfterMs: 60_000, writeElision: true, elisionMemo: 10_000, disableTouch: false, timeout: 2000, breaker: { failures: 5, windowMs: 10_000, cooldownMs: 5000 }, readPolicy: 'error', serializer: JSON_SERIALIZER, logger: null, now: Date.now })
  t.equal(JSON_SERIALIZER.stringify({ a: 1 }), '{"a":1}')
  t.strictSame(JSON_SERIALIZER.parse('{"a":1}'), { a: 1 })
})

test('options are read, not changed', async (t) => {
  const now = (): number => 5
  const logger = { warn: () => {}, error: () => {} }
  const serializer = { stringify: () => 'x', parse: () => ({}) }
  const input = { ttl: 1.5, touchAfter: 0, writeElision: false, elisionMemo: 5, disableTouch: true, timeout: 10, breaker: { failures: 2 }, readPolicy: 'miss', serializer, logger, now }
  const copy = { ...input }
  t.strictSame(normalizeStoreOptions(input), { ttlMs: 1500, touchAfterMs: 0, writeElision: false, elisionMemo: 5, disableTouch: true, timeout: 10, breaker: { failures: 2, windowMs: 10_000, cooldownMs: 5000 }, readPolicy: 'miss', serializer, logger, now })
  t.equal(normalizeStoreOptions({ breaker: false }).breaker, null, 'breaker: false, none')
  t.strictSame(input, copy)
  t.equal(normalizeStoreOptions({ logger: false }).logger, false)
  t.equal(normalizeStoreOptions({ serializer: JSON }).serializer, JSON, 'the JSON object itself is a serializer')
  const memory: MemoryStoreOptions = { maxEntries: 2, maxBytes: 100 }
  Object.freeze(memory)
  t.ok(new MemoryStore(memory), 'a frozen options object is fine')
})

test('invalid options throw a coded error that names them', async (t) => {
  t.ok(new FST_FLEET_SESSION_INVALID_OPTION('x', 'y') instanceof TypeError, 'a TypeError')
  const cases: Array<[unknown, string]> = [
    ['x', 'invalid option options: expected an object, got "x"'],
    [null, 'invalid option options: expected an object, got null'],
    [[], 'invalid option options: expected an object, got an array'],
    [{ tll: 5 }, 'invalid option tll: unknown option'],
    [{ ttl: 0 }, 'invalid option ttl: expected a number ≥ 1, got 0'],
    [{ ttl: '60' }, 'invalid option ttl: expected a number ≥ 1, got "60"'],
    [{ ttl: Infinity }, 'invalid option ttl: expected a number ≥ 1, got Infinity'],
    [{ ttl: NaN }, 'invalid option ttl: expected a number ≥ 1, got NaN'],
    [{ touchAfter: -1 }, 'invalid option touchAfter: expected a number ≥ 0, got -1'],
    [{ timeout: 0 }, 'invalid option timeout: expected a number from 1 to 2147483647, got 0'],
    [{ timeout: 2 ** 31 }, 'invalid option timeout: expected a number from 1 to 2147483647, got 2147483648'],
    [{ writeElision: 'yes' }, 'invalid option writeElision: expected a boolean, got "yes"'],
    [{ elisionMemo: 0 }, 'invalid option elisionMemo: expected a whole number ≥ 1, got 0'],
    [{ disableTouch: 1 }, 'invalid option disableTouch: expected a boolean, got 1'],
    [{ serializer: { stringify: () => '' } }, 'invalid option serializer: expected an object with stringify() and parse() functions'],
    [{ serializer: 'json' }, 'invalid option serializer: expected an object with stringify() and parse() functions'],
    [{ logger: true }, 'invalid option logger: expected false or an object with warn() and error() functions (e.g. fastify.log)'],
    [{ logger: { warn: () => {} } }, 'invalid option logger: expected false or an object with warn() and error() functions (e.g. fastify.log)'],
    [{ logger: console.warn }, 'invalid option logger: expected false or an object with warn() and error() functions (e.g. fastify.log)'],
    [{ now: 5 }, 'invalid option now: expected a function returning milliseconds, got 5'],
    [{ breaker: true }, 'invalid option breaker: expected an object, got true'],
    [{ breaker: { failures: 0 } }, 'invalid option breaker.failures: expected a whole number ≥ 1, got 0'],
    [{ breaker: { window: 0 } }, 'invalid option breaker.window: expected a number ≥ 0.001, got 0'],
    [{ breaker: { cooldown: '5' } }, 'invalid option breaker.cooldown: expected a number ≥ 0.001, got "5"'],
    [{ breaker: { reset: 5 } }, 'invalid option breaker.reset: unknown option'],
    [{ readPolicy: 'stale' }, 'invalid option readPolicy: expected one of "error", "miss", got "stale"'],
    [{ maxEntries: 0 }, 'invalid option maxEntries: expected a whole number ≥ 1, got 0'],
    [{ maxEntries: 1.5 }, 'invalid option maxEntries: expected a whole number ≥ 1, got 1.5'],
    [{ maxEntries: '10' }, 'invalid option maxEntries: expected a whole number ≥ 1, got "10"'],
    [{ maxBytes: 0 }, 'invalid option maxBytes: expected a whole number ≥ 1, got 0'],
    [{ maxBytes: null }, 'invalid option maxBytes: expected a whole number ≥ 1, got null'],
    [{ maxBytes: () => 1 }, 'invalid option maxBytes: expected a whole number ≥ 1, got a function'],
    [{ maxbytes: 10 }, 'invalid option maxbytes: unknown option']
  ]
  for (const [opts, message] of cases) {
    t.throws(() => new MemoryStore(opts as MemoryStoreOptions), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: `fastify-fleet/session: ${message}` }, JSON.stringify(opts) ?? String(opts))
  }
})

test('a store-specific option is unknown to another store', async (t) => {
  t.throws(() => normalizeStoreOptions({ maxEntries: 5 }), { code: 'FST_FLEET_SESSION_INVALID_OPTION', message: 'fastify-fleet/session: invalid option maxEntries: unknown option' })
})
