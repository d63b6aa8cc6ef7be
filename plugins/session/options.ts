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
  serializer: Serializer
  /** `null`: the process-warning default. */
  logger: StoreLogger | false | null
  now: () => number
}

const STORE_KEYS: readonly string[] = [...Object.keys(DEFAULTS), 'logger']

export function invalid (name: string, reason: string): never {
  throw new FST_FLEET_SESSION_INVALID_OPTION(name, reason)
}

export function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

const show = (value: unknown): string => typeof value === 'function' ? 'a function' : String(JSON.stringify(value))

/** A number option: finite, ≥ `min`, whole when `integer`. */
export function numberOption (name: string, value: unknown, min: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    invalid(name, `expected ${integer ? 'a whole number' : 'a number'} ≥ ${min}, got ${show(value)}`)
  }
  return value
}

function boolOption (opts: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = opts[name] ?? fallback
  if (typeof value !== 'boolean') invalid(name, `expected a boolean, got ${show(value)}`)
  return value
}

/**
 * A store's options split into its own (`ownKeys`, which it checks itself) and the ones every store
 * shares (checked by `normalizeStoreOptions`); the caller's object is left as it is.
 */
export function splitOptions (input: unknown, ownKeys: readonly string[]): { own: Record<string, unknown>, common: Record<string, unknown> } {
  if (input === undefined) input = {}
  if (!isObject(input)) invalid('options', 'expected an object')
  const own: Record<string, unknown> = {}
  const common: Record<string, unknown> = {}
  for (const key of Object.keys(input)) {
    if (ownKeys.includes(key)) own[key] = input[key]
    else common[key] = input[key]
  }
  return { own, common }
}

/** Validates the options every store shares, never touching the caller's object; any other key is refused as unknown. */
export function normalizeStoreOptions (input: unknown): NormalizedStoreOptions {
  if (input === undefined) input = {}
  if (!isObject(input)) invalid('options', 'expected an object')
  for (const key of Object.keys(input)) {
    if (!STORE_KEYS.includes(key)) invalid(key, 'unknown option')
  }
  const ttl = numberOption('ttl', input.ttl ?? DEFAULTS.ttl, 1)
  const touchAfter = numberOption('touchAfter', input.touchAfter ?? DEFAULTS.touchAfter, 0)
  const timeout = numberOption('timeout', input.timeout ?? DEFAULTS.timeout, 1)
  // setTimeout() turns longer delays into 1 ms
  if (timeout > 2 ** 31 - 1) invalid('timeout', `expected at most ${2 ** 31 - 1} ms, got ${timeout}`)

  const serializer = input.serializer ?? DEFAULTS.serializer
  if (!isObject(serializer) || typeof serializer.stringify !== 'function' || typeof serializer.parse !== 'function') {
    invalid('serializer', 'expected an object with stringify() and parse() functions')
  }
  const logger = input.logger
  if (logger !== undefined && logger !== false &&
    (!isObject(logger) || typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    invalid('logger', 'expected false or an object with warn() and error() functions (e.g. fastify.log)')
  }
  const now = input.now ?? DEFAULTS.now
  if (typeof now !== 'function') invalid('now', `expected a function returning milliseconds, got ${show(now)}`)

  return {
    ttlMs: ttl * 1000,
    touchAfterMs: touchAfter * 1000,
    writeElision: boolOption(input, 'writeElision', DEFAULTS.writeElision),
    elisionMemo: numberOption('elisionMemo', input.elisionMemo ?? DEFAULTS.elisionMemo, 1, true),
    disableTouch: boolOption(input, 'disableTouch', DEFAULTS.disableTouch),
    timeout,
    serializer: serializer as unknown as Serializer,
    logger: logger === undefined ? null : logger as StoreLogger | false,
    now: now as () => number
  }
}
