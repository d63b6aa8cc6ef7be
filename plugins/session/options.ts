import { isObject, optionKit, type OptionKit } from '../internal/option-kit.js'
import type { BreakerSettings } from './circuit-breaker.js'
import { FST_FLEET_SESSION_INVALID_OPTION } from './errors.js'

/**
 * Turns a session into the text a store keeps, and back. The default is JSON (what express-session
 * stores such as connect-redis write, so their data stays readable both ways). A custom one can
 * encrypt at rest or keep types JSON cannot hold; `stringify` must return a string.
 */
export interface Serializer {
  stringify: (session: Record<string, unknown>) => string
  parse: (text: string) => unknown
}

/**
 * The circuit breaker of a store: after `failures` failed backend calls within `window` seconds,
 * calls fail at once with `FST_FLEET_SESSION_UNAVAILABLE` for `cooldown` seconds; then one call
 * goes through as a probe, and its outcome closes the breaker or opens it again.
 */
export interface BreakerOptions {
  /** @default 5 */
  failures?: number
  /** @default 10 */
  window?: number
  /** @default 5 */
  cooldown?: number
}

/**
 * What `get` does when the backend is down (`FST_FLEET_SESSION_BACKEND`, `_TIMEOUT` or
 * `_UNAVAILABLE`): `'error'` fails it (the request answers 503); `'miss'` answers "no session"
 * (users look logged out, the site stays up).
 */
export type ReadPolicy = 'error' | 'miss'

/** What a store logs with: a pino-like logger such as `fastify.log`. */
export interface StoreLogger {
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

/** Options shared by every store. */
export interface StoreOptions {
  /**
   * Lifetime in seconds of a session whose cookie has no expiry (a browser-session cookie).
   * Sessions whose cookie has `expires` (e.g. from `cookie.maxAge`) live until then.
   * @default 86400
   */
  ttl?: number
  /**
   * Write elision: when `set` gets a session whose data (the cookie's expiry aside) is what this
   * process read, the store does not rewrite it; it only moves the expiry, and not even that while
   * the new expiry is less than `touchAfter` seconds after the stored one. The window is capped at a
   * tenth of the session's lifetime, so a session may end up to `min(touchAfter, lifetime / 10)`
   * before its cookie, never more. `0` refreshes the expiry on every such `set`.
   * @default 60
   */
  touchAfter?: number
  /**
   * `false`: every `set` writes the whole session (no write elision).
   * @default true
   */
  writeElision?: boolean
  /**
   * How many sessions write elision remembers (the ones this process read or wrote last): past it,
   * the least recently used is forgotten, and its next `set` writes it whole.
   * @default the store's `maxEntries` (MemoryStore, ClusterStore), else 10000
   */
  elisionMemo?: number
  /**
   * `touch()` does nothing, and an unchanged session keeps the expiry of its last write
   * (connect-redis's `disableTouch`).
   * @default false
   */
  disableTouch?: boolean
  /**
   * Milliseconds a backend call may take before it fails with `FST_FLEET_SESSION_TIMEOUT`.
   * @default 2000
   */
  timeout?: number
  /**
   * The circuit breaker (see `BreakerOptions`); `false`: none, every call reaches the backend.
   * @default { failures: 5, window: 10, cooldown: 5 }
   */
  breaker?: BreakerOptions | false
  /**
   * What `get` does while the backend is down: `'error'` (the request fails with a 503) or
   * `'miss'` (the session reads as absent).
   * @default 'error'
   */
  readPolicy?: ReadPolicy
  /**
   * How sessions are turned into stored text and back.
   * @default JSON (`{ stringify: JSON.stringify, parse: JSON.parse }`)
   */
  serializer?: Serializer
  /**
   * Where unreadable stored sessions are reported (`warn`) and failed background clean-ups
   * (`error`). `false` logs nothing.
   * @default a process warning (`process.emitWarning`) with the error's code
   */
  logger?: StoreLogger | false
  /**
   * The clock, in milliseconds since the epoch, for expiry decisions; tests pass a fake one.
   * @default Date.now
   */
  now?: () => number
}

/** The default serializer. */
export const JSON_SERIALIZER: Serializer = {
  stringify: (session) => JSON.stringify(session),
  parse: (text) => JSON.parse(text)
}

export const DEFAULTS = {
  ttl: 86400,
  touchAfter: 60,
  writeElision: true,
  elisionMemo: 10_000,
  disableTouch: false,
  timeout: 2000,
  breaker: { failures: 5, window: 10, cooldown: 5 },
  readPolicy: 'error',
  serializer: JSON_SERIALIZER,
  now: Date.now
} as const satisfies Required<Omit<StoreOptions, 'logger'>>

/** The options of every store, checked; durations in milliseconds. */
export interface NormalizedStoreOptions {
  ttlMs: number
  touchAfterMs: number
  writeElision: boolean
  elisionMemo: number
  disableTouch: boolean
  timeout: number
  /** Durations in milliseconds; `null`: no breaker. */
  breaker: BreakerSettings | null
  readPolicy: ReadPolicy
  serializer: Serializer
  /** `null`: the process-warning default. */
  logger: StoreLogger | false | null
  now: () => number
}

const STORE_KEYS: readonly string[] = [...Object.keys(DEFAULTS), 'logger']

/** The option checks of the session stores, failing with `FST_FLEET_SESSION_INVALID_OPTION`. */
export const check: OptionKit = optionKit((name, reason) => { throw new FST_FLEET_SESSION_INVALID_OPTION(name, reason) })

/** The longest delay `setTimeout()` takes (it turns longer ones into 1 ms). */
const MAX_TIMEOUT = 2 ** 31 - 1

/**
 * A store's options split into its own (`ownKeys`, which it checks itself) and the ones every store
 * shares (checked by `normalizeStoreOptions`); the caller's object is left as it is.
 */
export function splitOptions (input: unknown, ownKeys: readonly string[]): { own: Record<string, unknown>, common: Record<string, unknown> } {
  const options = check.object('options', input === undefined ? {} : input)
  const own: Record<string, unknown> = {}
  const common: Record<string, unknown> = {}
  for (const key of Object.keys(options)) {
    if (ownKeys.includes(key)) own[key] = options[key]
    else common[key] = options[key]
  }
  return { own, common }
}

function breakerSettings (input: unknown): BreakerSettings | null {
  if (input === false) return null
  const options = check.object('breaker', input ?? DEFAULTS.breaker)
  check.known(options, Object.keys(DEFAULTS.breaker), 'breaker.')
  return {
    failures: check.number('breaker.failures', options.failures, DEFAULTS.breaker.failures, { min: 1, integer: true }),
    windowMs: check.number('breaker.window', options.window, DEFAULTS.breaker.window, { min: 0.001 }) * 1000,
    cooldownMs: check.number('breaker.cooldown', options.cooldown, DEFAULTS.breaker.cooldown, { min: 0.001 }) * 1000
  }
}

/** Validates the options every store shares, never touching the caller's object; any other key is refused as unknown. */
export function normalizeStoreOptions (input: unknown): NormalizedStoreOptions {
  const options = check.object('options', input === undefined ? {} : input)
  check.known(options, STORE_KEYS)
  const serializer = options.serializer ?? DEFAULTS.serializer
  if (!isObject(serializer) || typeof serializer.stringify !== 'function' || typeof serializer.parse !== 'function') {
    check.invalid('serializer', 'expected an object with stringify() and parse() functions')
  }
  const logger = options.logger
  if (logger !== undefined && logger !== false &&
    (!isObject(logger) || typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    check.invalid('logger', 'expected false or an object with warn() and error() functions (e.g. fastify.log)')
  }
  return {
    ttlMs: check.number('ttl', options.ttl, DEFAULTS.ttl, { min: 1 }) * 1000,
    touchAfterMs: check.number('touchAfter', options.touchAfter, DEFAULTS.touchAfter, { min: 0 }) * 1000,
    writeElision: check.boolean('writeElision', options.writeElision, DEFAULTS.writeElision),
    elisionMemo: check.number('elisionMemo', options.elisionMemo, DEFAULTS.elisionMemo, { min: 1, integer: true }),
    disableTouch: check.boolean('disableTouch', options.disableTouch, DEFAULTS.disableTouch),
    timeout: check.number('timeout', options.timeout, DEFAULTS.timeout, { min: 1, max: MAX_TIMEOUT }),
    breaker: breakerSettings(options.breaker),
    readPolicy: check.oneOf('readPolicy', options.readPolicy, DEFAULTS.readPolicy as ReadPolicy, ['error', 'miss']),
    serializer: serializer as unknown as Serializer,
    logger: logger === undefined ? null : logger as StoreLogger | false,
    now: check.fn('now', options.now, DEFAULTS.now, 'a function returning milliseconds')
  }
}
