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
    // always a copy: the record is the store's own, whatever the caller does with its object later
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
 * Copies the own enumerable fields of `source` onto `target`, as fields: one named `__proto__` is
 * defined, not handed to the prototype setter.
 */
export function copyFields (target: Record<string, unknown>, source: object): object {
  const fields = source as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (key === '__proto__') Object.defineProperty(target, key, { value: fields[key], writable: true, enumerable: true, configurable: true })
    else target[key] = fields[key]
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

/** The last time a Set-Cookie `Expires` can carry (the `cookie` library refuses years past 9999). */
const LAST_COOKIE_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
/** The longest `maxAge` taken, 100 years: a cookie lives 400 days at most in browsers. */
const MAX_AGE_LIMIT = 100 * 365 * 86_400_000
const SAME_SITE = new Set(['strict', 'lax', 'none'])
// the `cookie` library's checks of Path and Domain
const PATH = /^[\u0020-\u003A\u003D-\u007E]*$/
const DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/**
 * Why a stored cookie cannot be a session's: a field `@fastify/session` puts back into the
 * Set-Cookie header (it reads them when set, as truthy) with a value the `cookie` library refuses,
 * which throws in the store's callback (an uncaught exception). `null` when it can.
 */
function cookieProblem (cookie: Record<string, unknown>): string | null {
  for (const key of ['originalMaxAge', 'maxAge']) {
    const span = cookie[key]
    if (span && !(typeof span === 'number' && Math.abs(span) <= MAX_AGE_LIMIT)) return `its cookie.${key} is not a duration`
  }
  const { sameSite, path, domain } = cookie
  if (sameSite && sameSite !== true && !(typeof sameSite === 'string' && SAME_SITE.has(sameSite.toLowerCase()))) {
    return 'its cookie.sameSite is not lax, strict or none'
  }
  if (path && !(typeof path === 'string' && PATH.test(path))) return 'its cookie.path is not a cookie path'
  if (domain && !(typeof domain === 'string' && DOMAIN.test(domain))) return 'its cookie.domain is not a domain'
  return null
}

/** The methods of `@fastify/session` 11's Session: a stored field of one of these names would replace it. */
const SESSION_METHODS = ['get', 'set', 'save', 'touch', 'destroy', 'reload', 'regenerate', 'options', 'isModified', 'isSaved']

/**
 * Checks a parsed value as a stored session: a plain object without a `__proto__` field or a field
 * named like a Session method, whose
 * `cookie`, when present, is an object whose `expires`, when set, is a date a cookie can carry and
 * whose other fields a Set-Cookie header can carry (`cookieProblem`).
 */
export function checkRecord (value: unknown): RecordCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` }
  }
  const record = value as Record<string, unknown>
  // @fastify/session assigns each field to its Session: this one would replace the Session's prototype
  if (Object.hasOwn(record, '__proto__')) return { problem: 'it has a field named __proto__' }
  // ...and these would replace its methods on the restored session (a 500 on the next call)
  const method = SESSION_METHODS.find((name) => Object.hasOwn(record, name))
  if (method !== undefined) return { problem: `it has a field named ${method}, a method of @fastify/session's Session` }
  if (record.cookie === undefined) return { problem: null, expires: null }
  const cookie = cookieOf(record)
  if (cookie === null || Array.isArray(cookie)) return { problem: 'its cookie is not an object' }
  const problem = cookieProblem(cookie)
  if (problem !== null) return { problem }
  if (cookie.expires == null) return { problem: null, expires: null }
  const expires = timeOf(cookie.expires)
  return expires === null || expires > LAST_COOKIE_TIME ? { problem: 'its cookie.expires is not a date' } : { problem: null, expires }
}

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
