import { test } from 'tap'
import { compareJson, copyJson, type Comparison } from '../../plugins/session/json-record.js'

test('copyJson copies what JSON.parse gave as JSON.parse of its text would', async (t) => {
  const texts = [
    '{"cookie":{"expires":"2030-01-01T00:00:00.000Z","originalMaxAge":3600000,"secure":true,"domain":null},"user":"ada","views":3}',
    '{"list":[1,[2,{"deep":[{"x":null}]}],"three"],"empty":{},"none":[],"2":"an integer key","1":"first"}',
    '{"__proto__":{"polluted":true},"nested":{"__proto__":[1]},"user":"\u00e9\u2603 \ud83d\ude00"}',
    '[{"a":1},{"a":2}]', '"text"', '42', 'null', 'true'
  ]
  for (const text of texts) {
    const parsed: unknown = JSON.parse(text)
    const copy = copyJson(parsed)
    t.strictSame(copy, JSON.parse(text), `${text}: the same value`)
    t.equal(JSON.stringify(copy), JSON.stringify(parsed), `${text}: the same text, key order included`)
  }
  const parsed = JSON.parse(texts[1]!) as { list: [number, [number, { deep: Array<{ x: unknown }> }]], empty: Record<string, unknown> }
  const copy = copyJson(parsed)
  copy.list[1][1].deep[0]!.x = 'changed'
  copy.empty.added = true
  t.equal(parsed.list[1][1].deep[0]!.x, null, 'nested values are copies: the source is untouched')
  t.strictSame(parsed.empty, {})
  const odd = copyJson(JSON.parse(texts[2]!) as Record<string, unknown>)
  t.equal(Object.getPrototypeOf(odd), Object.prototype, 'a __proto__ field stays a field')
  t.strictSame(Object.keys(odd), ['__proto__', 'nested', 'user'])
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing reaches Object.prototype')
})

test('compareJson: the data JSON would store, the rolling expiry aside, without serializing', async (t) => {
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
    t.equal(compareJson(live(fields), stored(parsed)), 'same', label)
    t.strictSame(JSON.parse(JSON.stringify({ ...fields })), parsed, `${label}: as JSON would have it`)
  }
  t.equal(compareJson(live({ user: 'ada' }, { ...cookie, expires: new Date(0), originalExpires: undefined }), stored({ user: 'ada' })), 'same', 'the rolling expiry is not compared')

  class Point { x = 1 }
  const others: Array<[Comparison, string, Record<string, unknown>, Record<string, unknown>]> = [
    ['different', 'a changed value', { views: 4 }, { views: 3 }],
    ['different', 'a string for a number', { views: '3' }, { views: 3 }],
    ['different', 'a field more', { views: 3, extra: 1 }, { views: 3 }],
    ['different', 'a field less', {}, { views: 3 }],
    ['different', 'a field that became undefined', { views: undefined }, { views: 3 }],
    ['different', 'null for an object', { cart: null }, { cart: {} }],
    ['different', 'an object for a primitive', { cart: {} }, { cart: 'x' }],
    ['different', 'an object for null', { cart: {} }, { cart: null }],
    ['different', 'an array for an object', { cart: [] }, { cart: {} }],
    ['different', 'an object for an array', { cart: {} }, { cart: [] }],
    ['different', 'an array of another length', { list: [1, 2] }, { list: [1] }],
    ['different', 'a changed element', { list: [1, { a: 2 }] }, { list: [1, { a: 3 }] }],
    ['different', 'a Date that moved', { at: new Date(when.getTime() + 1) }, { at: when.toISOString() }],
    ['different', 'a number that became NaN', { n: Number.NaN }, { n: 1 }],
    ['unknown', 'an array holding undefined', { list: [undefined] }, { list: [null] }],
    ['unknown', 'a class instance', { p: new Point() }, { p: { x: 1 } }],
    ['unknown', 'an own toJSON', { p: { toJSON: () => 'p' } }, { p: 'p' }],
    ['unknown', 'a BigInt', { n: 1n }, { n: 1 }]
  ]
  for (const [expected, label, fields, parsed] of others) t.equal(compareJson(live(fields), stored(parsed)), expected, label)
  t.equal(compareJson(live({}, { ...cookie, secure: false }), stored({})), 'different', 'a cookie field changed')
  t.equal(compareJson(live({}, { ...cookie, domain: undefined }), stored({})), 'different', 'a cookie field gone')
  t.equal(compareJson({ user: 'ada' }, { user: 'ada' }), 'unknown', 'no cookie: not a rolling record')
  t.equal(compareJson(live({}), { user: 'ada' }), 'unknown', 'a stored record without cookie')

  // an enumerable field on Object.prototype (a polluted prototype): never taken for equal data
  // eslint-disable-next-line no-extend-native -- the pollution under test, removed below
  Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true })
  try {
    t.not(compareJson(live({ user: 'ada' }), stored({ user: 'ada' })), 'same', 'an inherited field: not the same (a write)')
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted
  }
  t.equal(compareJson(live({ user: 'ada' }), stored({ user: 'ada' })), 'same', 'and the same once it is gone')
})
