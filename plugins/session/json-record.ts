/**
 * For the default JSON serializer: what write elision does with the parse of a text it read (kept,
 * never handed out). Reading the same text again costs a copy of it instead of a parse, and a
 * rolled session is compared with it field by field instead of being serialized. Serializing and
 * parsing are half the CPU a store spends per request; measured in `bench/` (MemoryStore, read
 * route), this saves about 6 µs of the server's CPU per request (6 %).
 */
import type { SessionRecord } from './record.js'

/**
 * A deep copy of what `JSON.parse` gave (plain objects, arrays and primitives): the same value
 * `JSON.parse` of its text would give, for a fraction of the cost. Objects are copied by spread,
 * which defines each field (a field named `__proto__` stays a field).
 */
export function copyJson<T> (value: T): T {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(copyJson) as T
  const out: Record<string, unknown> = { ...value as Record<string, unknown> }
  for (const key of Object.keys(out)) {
    const field = out[key]
    // `key` is an own field of `out`: assigning it never reaches a setter
    if (field !== null && typeof field === 'object') out[key] = copyJson(field)
  }
  return out as T
}

/**
 * How a session compares with the parse of a stored text: `same` when `JSON.parse(JSON.stringify(
 * session))` would hold the same data (key order aside), `different` when it certainly would not,
 * `unknown` when only serializing can tell (a value with its own `toJSON` other than a `Date`'s,
 * an instance of a class, a BigInt, an array holding `undefined`...).
 */
export type Comparison = 'same' | 'different' | 'unknown'

/** Which fields a comparison leaves out: none, the session's `cookie`, or the cookie's rolling expiry. */
type Skip = 'none' | 'cookie' | 'expiry'

const skipped = (key: string, skip: Skip): boolean =>
  skip === 'cookie' ? key === 'cookie' : skip === 'expiry' && (key === 'expires' || key === 'originalExpires')

const isDate = (value: object): value is Date => value instanceof Date && value.toJSON === Date.prototype.toJSON

/**
 * A rolling session (a snapshot: its cookie a plain copy) compared with `parsed`, what the text last
 * read of it parsed to, its cookie's `expires` and `originalExpires` aside (they move on every
 * request). A getter that throws is thrown through, as `JSON.stringify` would.
 */
export function compareJson (record: SessionRecord, parsed: SessionRecord): Comparison {
  const cookie = record.cookie
  const stored = parsed.cookie
  if (cookie === null || typeof cookie !== 'object' || stored === null || typeof stored !== 'object') return 'unknown'
  const cookies = compareFields(cookie, stored, 'expiry')
  return cookies === 'same' ? compareFields(record, parsed, 'cookie') : cookies
}

/** Two objects' fields but `skip`; fields JSON leaves out (undefined, functions, symbols) count as absent. */
function compareFields (value: object, parsed: Record<string, unknown>, skip: Skip): Comparison {
  const fields = value as Record<string, unknown>
  let count = 0
  // for...in: no array of keys; an inherited field (a polluted prototype) is not one of `parsed`'s own
  for (const key in fields) {
    const field = fields[key]
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol' || skipped(key, skip)) continue
    if (!Object.hasOwn(parsed, key)) return 'different'
    const comparison = compareValue(field, parsed[key])
    if (comparison !== 'same') return comparison
    count++
  }
  // `parsed` came from JSON: every own field counts, but those skipped
  for (const key in parsed) {
    if (!skipped(key, skip)) count--
  }
  return count === 0 ? 'same' : 'different'
}

function compareValue (value: unknown, parsed: unknown): Comparison {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value === parsed ? 'same' : 'different'
    case 'number':
      return (Number.isFinite(value) ? value === parsed : parsed === null) ? 'same' : 'different'
    case 'object':
      break
    default:
      return 'unknown'
  }
  if (value === null) return parsed === null ? 'same' : 'different'
  if (isDate(value)) return parsed === (Number.isFinite(value.getTime()) ? value.toISOString() : null) ? 'same' : 'different'
  if (Array.isArray(value)) {
    if (!Array.isArray(parsed) || parsed.length !== value.length) return 'different'
    for (let i = 0; i < value.length; i++) {
      const comparison = compareValue(value[i], parsed[i])
      if (comparison !== 'same') return comparison
    }
    return 'same'
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return 'unknown'
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'different'
  return compareFields(value, parsed as Record<string, unknown>, 'none')
}
