import { test } from 'tap'
import { DateJson, recordJson, withJsonDates } from '../../plugins/session/record.js'

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
