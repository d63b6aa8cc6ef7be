import { test } from 'tap'
import { cloneParsed, DateJson, recordJson, sameData, withJsonDates } from '../../plugins/session/record.js'

test('DateJson writes what JSON.stringify writes for a Date', async (t) => {
  const formatter = new DateJson()
  const times = [
    Date.UTC(2030, 0, 1, 12, 0, 0, 0),
    Date.UTC(2030, 0, 1, 12, 0, 0, 7), // same second: the kept prefix, padded milliseconds
    Date.UTC(2030, 0, 1, 12, 0, 0, 42),
    Date.UTC(2030, 0, 1, 12, 0, 0, 999),
    Date.UTC(2030, 0, 1, 12, 0, 1, 0), // the next second
    Date.UTC(2030, 0, 1, 12, 0, 0, 500), // back to an earlier second
    -1, // 1969-12-31T23:59:59.999Z: the second before the epoch
    -1001,
    8.64e15, // the last valid date (+275760-09-13)
    -8.64e15,
    Date.UTC(-1, 5, 1, 0, 0, 0, 3)
  ]
  for (const time of times) {
    const date = new Date(time)
    t.equal(formatter.format(date), JSON.parse(JSON.stringify(date)), date.toISOString())
  }
  t.equal(formatter.format(new Date(Number.NaN)), null, 'an invalid date: null, as its toJSON gives')
})

test('withJsonDates: the same text as JSON.stringify, the cookie given its values back', async (t) => {
  const expires = new Date(Date.UTC(2030, 0, 1, 12, 0, 0, 5))
  const originalExpires = new Date(Date.UTC(2030, 0, 1, 11, 0, 0, 0))
  const records: Array<Record<string, unknown>> = [
    { cookie: { originalMaxAge: 3600000, expires, secure: true, path: '/' }, user: 'ada' },
    { cookie: { originalMaxAge: null, expires, originalExpires, httpOnly: true }, n: 1 },
    { cookie: { expires: new Date(Number.NaN), originalExpires: 'not a date' } },
    { cookie: { expires: '2030-01-01T00:00:00.000Z' }, nested: { when: new Date(0) } },
    { cookie: null, user: 'ada' },
    { cookie: 'a string', user: 'ada' },
    { user: 'no cookie' }
  ]
  for (const record of records) {
    const fields = (): unknown[] => [record.cookie, ...Object.values(record.cookie !== null && typeof record.cookie === 'object' ? record.cookie : {})]
    const before = fields()
    t.equal(recordJson(record), JSON.stringify(record), JSON.stringify(record))
    const after = fields()
    t.ok(after.length === before.length && after.every((value, i) => value === before[i]), 'the cookie holds the same values')
  }

  const own = new Date(0)
  Object.defineProperty(own, 'toJSON', { value: () => 'my own', enumerable: false })
  const mine = { cookie: { expires: own } }
  t.equal(recordJson(mine), '{"cookie":{"expires":"my own"}}', 'a date with its own toJSON is left to JSON.stringify')

  const cookie = { expires, originalExpires }
  t.throws(() => withJsonDates(cookie, () => { throw new Error('boom') }), /boom/)
  t.equal(cookie.expires, expires, 'the dates come back when the stringify throws')
  t.equal(cookie.originalExpires, originalExpires)
  t.equal(withJsonDates(cookie, () => typeof cookie.expires), 'string', 'during the call, the dates are strings')
})

test('cloneParsed copies what JSON.parse gave as JSON.parse of its text would', async (t) => {
  const texts = [
    '{"cookie":{"expires":"2030-01-01T00:00:00.000Z","originalMaxAge":3600000,"secure":true,"domain":null},"user":"ada","views":3}',
    '{"list":[1,[2,{"deep":[{"x":null}]}],"three"],"empty":{},"none":[],"2":"an integer key","1":"first"}',
    '{"__proto__":{"polluted":true},"nested":{"__proto__":[1]},"user":"\u00e9\u2603 \ud83d\ude00"}',
    '[{"a":1},{"a":2}]', '"text"', '42', 'null', 'true'
  ]
  for (const text of texts) {
    const parsed: unknown = JSON.parse(text)
    const copy = cloneParsed(parsed)
    t.strictSame(copy, JSON.parse(text), `${text}: the same value`)
    t.equal(JSON.stringify(copy), text === texts[1] ? JSON.stringify(parsed) : JSON.stringify(JSON.parse(text)), `${text}: the same text, key order included`)
  }
  const parsed = JSON.parse(texts[1]!) as { list: [number, [number, { deep: Array<{ x: unknown }> }]], empty: Record<string, unknown> }
  const copy = cloneParsed(parsed)
  copy.list[1][1].deep[0]!.x = 'changed'
  copy.empty.added = true
  t.equal(parsed.list[1][1].deep[0]!.x, null, 'nested values are copies: the source is untouched')
  t.strictSame(parsed.empty, {})
  const odd = cloneParsed(JSON.parse(texts[2]!) as Record<string, unknown>)
  t.equal(Object.getPrototypeOf(odd), Object.prototype, 'a __proto__ field stays a field')
  t.strictSame(Object.keys(odd), ['__proto__', 'nested', 'user'])
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing reaches Object.prototype')
})

test('sameData: the data JSON would store, the rolling expiry aside, without serializing', async (t) => {
  const cookie = { expires: new Date(Date.UTC(2030, 0, 1)), originalMaxAge: 3_600_000, originalExpires: new Date(Date.UTC(2029, 11, 31)), sameSite: null, secure: true, path: '/', httpOnly: true, domain: null, partitioned: undefined }
  const storedCookie = { expires: '2029-12-31T23:00:00.000Z', originalMaxAge: 3_600_000, sameSite: null, secure: true, path: '/', httpOnly: true, domain: null }
  const stored = (fields: Record<string, unknown>): Record<string, unknown> => ({ cookie: storedCookie, ...fields })
  const live = (fields: Record<string, unknown>, c: Record<string, unknown> = cookie): Record<string, unknown> => ({ cookie: { ...c }, ...fields })
  const when = new Date(Date.UTC(2030, 5, 1, 12))
  const same: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['no fields', {}, {}],
    ['primitives', { user: 'ada', views: 3, admin: false, none: null, ratio: -0 }, { user: 'ada', views: 3, admin: false, none: null, ratio: 0 }],
    ['what JSON leaves out is absent', { user: 'ada', gone: undefined, fn: () => 1, sym: Symbol('s') }, { user: 'ada' }],
    ['NaN and Infinity are null', { a: Number.NaN, b: Infinity }, { a: null, b: null }],
    ['nested objects and arrays', { cart: { items: [{ id: 1, tags: ['x'] }, 2, 'three', null], total: 9.5 } }, { cart: { items: [{ id: 1, tags: ['x'] }, 2, 'three', null], total: 9.5 } }],
    ['a Date is its ISO text, an invalid one null', { at: when, bad: new Date(Number.NaN) }, { at: when.toISOString(), bad: null }],
    ['key order aside', { a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }],
    ['an object without prototype', { bag: Object.assign(Object.create(null) as object, { k: 'v' }) }, { bag: { k: 'v' } }]
  ]
  for (const [label, fields, parsed] of same) {
    t.ok(sameData(live(fields), stored(parsed)), label)
    t.strictSame(JSON.parse(JSON.stringify({ ...fields })), parsed, `${label}: as JSON would have it`)
  }
  t.ok(sameData(live({ user: 'ada' }, { ...cookie, expires: new Date(0), originalExpires: undefined }), stored({ user: 'ada' })), 'the rolling expiry is not compared')

  class Point { x = 1 }
  const differ: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['a changed value', { views: 4 }, { views: 3 }],
    ['a string for a number', { views: '3' }, { views: 3 }],
    ['a field more', { views: 3, extra: 1 }, { views: 3 }],
    ['a field less', {}, { views: 3 }],
    ['a field that became undefined', { views: undefined }, { views: 3 }],
    ['null for an object', { cart: null }, { cart: {} }],
    ['an object for a primitive', { cart: {} }, { cart: 'x' }],
    ['an array for an object', { cart: [] }, { cart: {} }],
    ['an object for an array', { cart: {} }, { cart: [] }],
    ['an array of another length', { list: [1, 2] }, { list: [1] }],
    ['a changed element', { list: [1, { a: 2 }] }, { list: [1, { a: 3 }] }],
    ['a Date that moved', { at: new Date(when.getTime() + 1) }, { at: when.toISOString() }],
    ['undecided: an array holding undefined', { list: [undefined] }, { list: [null] }],
    ['undecided: a class instance', { p: new Point() }, { p: { x: 1 } }],
    ['undecided: an own toJSON', { p: { toJSON: () => 'p' } }, { p: 'p' }],
    ['undecided: a BigInt', { n: 1n }, { n: 1 }]
  ]
  for (const [label, fields, parsed] of differ) t.notOk(sameData(live(fields), stored(parsed)), label)
  t.notOk(sameData(live({}, { ...cookie, secure: false }), stored({})), 'a cookie field changed')
  t.notOk(sameData(live({}, { ...cookie, domain: undefined }), stored({})), 'a cookie field gone')
  t.notOk(sameData({ user: 'ada' }, { user: 'ada' }), 'no cookie: not a rolling record')
  t.notOk(sameData(live({}), { user: 'ada' }), 'a stored record without cookie')

  // an enumerable field on Object.prototype (a polluted prototype): never taken for equal data
  // eslint-disable-next-line no-extend-native -- the pollution under test, removed below
  Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true })
  try {
    t.notOk(sameData(live({ user: 'ada' }), stored({ user: 'ada' })), 'an inherited field: not the same, the texts decide')
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted
  }
  t.ok(sameData(live({ user: 'ada' }), stored({ user: 'ada' })), 'and the same once it is gone')
})
