/**
 * What a store keeps of a session: a snapshot of its own fields and of its cookie, turned into text
 * at once (a store never holds the live Session object), and the checks on what it reads back.
 */

/** The cookie part of a stored session, as `@fastify/session` and express-session write it. */
export interface SessionCookieRecord {
  /** When the cookie (and the session) expires: a `Date` going in, an ISO string coming out of JSON. */
  expires?: Date | string | null
  /** The `maxAge` the cookie was given, in milliseconds; `null` for a browser-session cookie. */
  originalMaxAge?: number | null
  [key: string]: unknown
}

/**
 * A session as `set` receives it: `@fastify/session`'s Session, or any object: its own enumerable
 * fields are stored, its `cookie` (a `SessionCookieRecord`, or an object with `toJSON()` giving one)
 * sets the expiry.
 */
export type SessionInput = object

/** A session as `get` returns it: a fresh plain object parsed from the stored text. */
export interface SessionRecord {
  cookie?: SessionCookieRecord
  [key: string]: unknown
}

/** Expiry values of a stored cookie exactly as read (before any change), for write elision. */
export interface StoredExpiry {
  expires: unknown
  originalExpires: unknown
}

const hasToJSON = (value: object): value is { toJSON: () => unknown } =>
  typeof (value as { toJSON?: unknown }).toJSON === 'function'

/**
 * A shallow plain copy of the session: its own enumerable fields (symbols and prototype getters
 * such as `sessionId` left out) with the cookie first, through its `toJSON()` when it has one.
 */
export function snapshot (session: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const source = session as Record<string, unknown>
  const cookie = source.cookie
  if (cookie !== undefined) {
    // always a copy: the comparison of write elision changes its expiry fields for a moment
    out.cookie = cookie !== null && typeof cookie === 'object'
      ? { ...(hasToJSON(cookie) ? cookie.toJSON() as object : cookie) }
      : cookie
  }
  for (const key of Object.keys(source)) {
    if (key !== 'cookie') out[key] = source[key]
  }
  return out
}

/**
 * A deep copy of what `JSON.parse` gave (plain objects, arrays and primitives): the same value
 * `JSON.parse` of its text would give, for about a tenth of the cost. Objects are copied by spread,
 * which defines each field (a field named `__proto__` stays a field), and their nested values after.
 */
export function cloneParsed<T> (value: T): T {
  return (value !== null && typeof value === 'object' ? copyParsed(value) : value) as T
}

function copyParsed (value: object): unknown {
  if (Array.isArray(value)) return value.map(cloneParsed)
  const out: Record<string, unknown> = { ...value }
  for (const key of Object.keys(out)) {
    const field = out[key]
    // `key` is an own field of `out`: assigning it never reaches a setter
    if (field !== null && typeof field === 'object') out[key] = copyParsed(field)
  }
  return out
}

/**
 * Copies the own enumerable fields of `source` onto `target` (deep copies of `JSON.parse` values
 * when `deep`), as fields: one named `__proto__` is defined, not handed to the prototype setter.
 */
export function copyFields (target: Record<string, unknown>, source: object, deep: boolean): object {
  const fields = source as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    const field = fields[key]
    const value = deep && field !== null && typeof field === 'object' ? copyParsed(field) : field
    if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
    else target[key] = value
  }
  return target
}

/** Milliseconds since the epoch of a `Date` or a date string; `null` when it is neither. */
export function timeOf (value: unknown): number | null {
  let time = NaN
  if (value instanceof Date) time = value.getTime()
  else if (typeof value === 'string') time = Date.parse(value)
  return Number.isFinite(time) ? time : null
}

function cookieOf (record: Record<string, unknown>): Record<string, unknown> | null {
  const cookie = record.cookie
  return cookie !== null && typeof cookie === 'object' ? cookie as Record<string, unknown> : null
}

/** When the session expires: its cookie's `expires`, else `now + ttlMs`. */
export function expiryOf (record: Record<string, unknown>, now: number, ttlMs: number): number {
  return timeOf(cookieOf(record)?.expires) ?? now + ttlMs
}

/**
 * Whether the cookie's expiry moves with every request (`maxAge`): its `expires` and
 * `originalExpires` are then left out when comparing with what was read.
 */
export function isRolling (record: Record<string, unknown>): boolean {
  return typeof cookieOf(record)?.originalMaxAge === 'number'
}

/**
 * A parsed value checked as a stored session: why it is not one, or (`problem: null`) the time of
 * its cookie's `expires`, `null` when it has none.
 */
export type RecordCheck = { problem: string } | { problem: null, expires: number | null }

/**
 * Checks a parsed value as a stored session: a plain object whose `cookie`, when present, is an
 * object whose `expires`, when set, is a date.
 */
export function checkRecord (value: unknown): RecordCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` }
  }
  const record = value as Record<string, unknown>
  if (record.cookie === undefined) return { problem: null, expires: null }
  const cookie = cookieOf(record)
  if (cookie === null || Array.isArray(cookie)) return { problem: 'its cookie is not an object' }
  if (cookie.expires == null) return { problem: null, expires: null }
  const expires = timeOf(cookie.expires)
  return expires === null ? { problem: 'its cookie.expires is not a date' } : { problem: null, expires }
}

/** The stored expiry fields of a checked record (an empty object when it has no cookie). */
export function storedExpiry (record: SessionRecord): StoredExpiry {
  return (record.cookie ?? NO_EXPIRY) as StoredExpiry
}

const NO_EXPIRY: StoredExpiry = { expires: undefined, originalExpires: undefined }

/**
 * `stringify(snapshot)` with the cookie's `expires` and `originalExpires` set to `stored` for the
 * call: the text to compare with what was read. The snapshot's cookie is the store's own copy; it
 * gets its values back afterwards (no copy of the session is made for the comparison).
 */
export function withStoredExpiry (record: Record<string, unknown>, stored: StoredExpiry, stringify: (r: Record<string, unknown>) => string): string {
  const cookie = cookieOf(record) as Record<string, unknown>
  const { expires, originalExpires } = cookie
  cookie.expires = stored.expires
  cookie.originalExpires = stored.originalExpires
  try {
    return stringify(record)
  } finally {
    cookie.expires = expires
    cookie.originalExpires = originalExpires
  }
}

const nativeDateToJSON = Date.prototype.toJSON
/**
 * What `JSON.stringify` writes for a date, through its own `toJSON`: the ISO string, `null` for an
 * invalid date. The text up to the seconds is kept from the last call, so dates within one second
 * are not formatted again: one formatter per cookie field, as every rolling session's `expires`
 * written in one second falls in the same second, and its `originalExpires` (the expiry it was read
 * with) in another.
 */
export class DateJson {
  #second = Number.NaN
  #prefix = ''

  format (date: Date): string | null {
    const time = date.getTime()
    if (!Number.isFinite(time)) return null
    const second = Math.floor(time / 1000)
    if (second !== this.#second) {
      const iso = date.toISOString()
      this.#second = second
      this.#prefix = iso.slice(0, -4)
      return iso
    }
    const ms = time - second * 1000
    return `${this.#prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`
  }
}

const expiresJson = new DateJson()
const originalExpiresJson = new DateJson()

const plainDate = (value: unknown): value is Date => value instanceof Date && value.toJSON === nativeDateToJSON

/**
 * Runs `stringify` with the `expires` and `originalExpires` dates of `cookie` (the store's own copy)
 * replaced by the strings `JSON.stringify` would write for them, and puts them back: a `Date`
 * takes `JSON.stringify` off its fast path, which costs about three times a small session's cookie.
 * The text is the same. A date whose `toJSON` is not the built-in one is left to `JSON.stringify`.
 */
export function withJsonDates<T> (cookie: unknown, stringify: () => T): T {
  if (cookie === null || typeof cookie !== 'object') return stringify()
  const fields = cookie as Record<string, unknown>
  const { expires, originalExpires } = fields
  const swapExpires = plainDate(expires)
  const swapOriginal = plainDate(originalExpires)
  if (!swapExpires && !swapOriginal) return stringify()
  if (swapExpires) fields.expires = expiresJson.format(expires)
  if (swapOriginal) fields.originalExpires = originalExpiresJson.format(originalExpires)
  try {
    return stringify()
  } finally {
    if (swapExpires) fields.expires = expires
    if (swapOriginal) fields.originalExpires = originalExpires
  }
}

/** `JSON.stringify` of a record whose cookie is the store's own copy (`snapshot`), its dates on the fast path. */
export const recordJson = (record: Record<string, unknown>): string => withJsonDates(record.cookie, () => JSON.stringify(record))

const cookieJson = (cookie: unknown): string => withJsonDates(cookie, () => JSON.stringify(cookie))

/**
 * For the default JSON serializer, a rolling record (a snapshot: its cookie a plain copy) to compare
 * with what was read: `tail`, the JSON of its own fields after the cookie, and `candidate`, the
 * whole text with the cookie's `expires` and `originalExpires` set to `stored`. The fields are
 * serialized once: `jsonWithTail(record, tail)` gives the text to store, only when it is written
 * (an unchanged session is not). The cookie comes first in both, as in `snapshot`'s key order
 * (integer-like keys aside, which JSON.stringify would put first: a text that differs only in that
 * order reads back the same, and at worst costs one write that elision could have saved).
 * `readText`: the text read, when known as is; a candidate whose fields differ from it cannot
 * match, and is `null` then (its cookie is not serialized).
 */
export function jsonComparison (record: Record<string, unknown>, stored: StoredExpiry, readText?: string): { tail: string, candidate: string | null } {
  const { cookie, ...fields } = record
  const rest = JSON.stringify(fields)
  const tail = rest === '{}' ? '}' : `,${rest.slice(1)}`
  if (readText !== undefined && !readText.endsWith(tail)) return { tail, candidate: null }
  const compared = withStoredExpiry(record, stored, (r) => cookieJson(r.cookie))
  return { tail, candidate: `{"cookie":${compared}${tail}` }
}

/** Which fields `sameFields` leaves out: none, the session's `cookie`, or the cookie's rolling expiry. */
const SKIP_NONE = 0
const SKIP_COOKIE = 1
const SKIP_EXPIRY = 2
type Skip = typeof SKIP_NONE | typeof SKIP_COOKIE | typeof SKIP_EXPIRY

const skipped = (key: string, skip: Skip): boolean =>
  skip === SKIP_COOKIE ? key === 'cookie' : skip === SKIP_EXPIRY && (key === 'expires' || key === 'originalExpires')

/**
 * Whether a rolling record (a snapshot: its cookie a plain copy) holds the data of `parsed`, what
 * the default serializer's text last read of the session parsed to, the cookie's `expires` and
 * `originalExpires` aside: whether `JSON.parse(JSON.stringify(record))` would equal `parsed` with
 * those two fields left out, key order aside, found without serializing. `false` when it differs
 * or when it cannot tell without serializing (a value with its own `toJSON` other than a plain
 * `Date`'s, an instance of a class, a BigInt, an array holding `undefined`...): the caller then
 * compares the texts.
 */
export function sameData (record: Record<string, unknown>, parsed: SessionRecord): boolean {
  const cookie = record.cookie
  const stored = parsed.cookie
  return cookie !== null && typeof cookie === 'object' && stored !== null && typeof stored === 'object' &&
    sameFields(cookie, stored, SKIP_EXPIRY) && sameFields(record, parsed, SKIP_COOKIE)
}

/** `sameData` of two objects' fields but `skip`; fields JSON leaves out (undefined, functions, symbols) count as absent. */
function sameFields (value: object, parsed: Record<string, unknown>, skip: Skip): boolean {
  const fields = value as Record<string, unknown>
  let count = 0
  // for...in: no array of keys; a field inherited (a polluted prototype) is not one of `parsed`'s own: `false`
  for (const key in fields) {
    const field = fields[key]
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol' || skipped(key, skip)) continue
    if (!Object.hasOwn(parsed, key) || !sameValue(field, parsed[key])) return false
    count++
  }
  // `parsed` came from JSON: every own field counts, but those skipped
  for (const key in parsed) {
    if (!skipped(key, skip) && --count < 0) return false
  }
  return count === 0
}

function sameValue (value: unknown, parsed: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value === parsed
    case 'number':
      return Number.isFinite(value) ? value === parsed : parsed === null
    case 'object':
      break
    default:
      return false
  }
  if (value === null) return parsed === null
  if (plainDate(value)) return parsed === (Number.isFinite(value.getTime()) ? value.toISOString() : null)
  if (parsed === null || typeof parsed !== 'object') return false
  if (Array.isArray(value)) {
    if (!Array.isArray(parsed) || parsed.length !== value.length) return false
    for (let i = 0; i < value.length; i++) {
      if (!sameValue(value[i], parsed[i])) return false
    }
    return true
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (Array.isArray(parsed) || (proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false
  return sameFields(value, parsed as Record<string, unknown>, SKIP_NONE)
}

/** The JSON of a rolling record whose own fields `jsonComparison` gave as `tail`. */
export const jsonWithTail = (record: Record<string, unknown>, tail: string): string => `{"cookie":${cookieJson(record.cookie)}${tail}`

/**
 * After a touch that did not rewrite the text, the backend's expiry is later than the `expires`
 * in the stored cookie: the returned cookie says the backend's, so `@fastify/session` (which
 * checks `cookie.expires`) does not take a live session for an expired one. `stored`: the time
 * of the stored cookie's `expires` (`checkRecord`), `null` when it has none.
 */
export function applyExpiry (record: SessionRecord, expiresAt: number | null, stored: number | null): void {
  const cookie = record.cookie
  if (cookie === undefined || expiresAt === null) return
  if (stored !== null && expiresAt > stored) cookie.expires = new Date(expiresAt).toISOString()
}
