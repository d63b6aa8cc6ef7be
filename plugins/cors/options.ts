import type { FastifyRequest } from 'fastify'
import {
  FST_FLEET_CORS_CREDENTIALS_WILDCARD,
  FST_FLEET_CORS_INVALID_OPTION,
  FST_FLEET_CORS_INVALID_ORIGIN,
  FST_FLEET_CORS_MAX_AGE,
  FST_FLEET_CORS_UNANCHORED_REGEXP
} from './errors.js'
import { optionKit, type OptionKit } from '../internal/option-kit.js'
import { canonicalOrigin, isAnchored, type OriginList } from './origin.js'

/**
 * What an origin function answers: `true` allows (the origin is echoed), `false` refuses,
 * `'*'` allows any origin without credentials, another string must equal the origin.
 */
export type OriginAnswer = boolean | string
export type OriginFunction = (origin: string, request: FastifyRequest) => OriginAnswer | Promise<OriginAnswer>
export type StaticOrigin = string | RegExp
export type OriginOption = boolean | '*' | StaticOrigin | StaticOrigin[] | OriginFunction

/** A CORS policy: the plugin's options, or a route's `config.cors` (merged over the plugin's). */
export interface CorsPolicyOptions {
  /**
   * Who may call: `'*'` (anyone, no credentials), `true` (reflect any origin, no credentials),
   * `false` (nobody), an origin string, an anchored RegExp, a list of those, or a function
   * `(origin, request) => boolean | string` (sync or async; its answers are cached).
   * `'null'` is allowed only when listed explicitly.
   * @default '*'
   */
  origin?: OriginOption
  /**
   * Methods a preflight may ask for (`'*'` for any, without credentials).
   * @default ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']
   */
  methods?: string[] | '*'
  /**
   * Request headers a preflight may ask for; `'reflect'` allows whatever is asked, `'*'` any
   * (without credentials).
   * @default 'reflect'
   */
  allowedHeaders?: string[] | '*' | 'reflect'
  /**
   * Response headers scripts may read (`Access-Control-Expose-Headers`; `'*'` without credentials).
   * @default []
   */
  exposedHeaders?: string[] | '*'
  /**
   * Allow cookies and HTTP authentication (`Access-Control-Allow-Credentials: true`).
   * @default false
   */
  credentials?: boolean
  /**
   * How long browsers cache a preflight, in seconds (`Access-Control-Max-Age`); `null` sends none
   * (browsers then cache for 5 s). Chromium caps it at 7200, Firefox at 86400, WebKit at 600.
   * @default 7200
   */
  maxAge?: number | null
  /**
   * `Cache-Control` on successful preflights, for shared caches and CDNs: seconds
   * (`public, max-age=N`) or a header value; `null` sends none.
   * @default null
   */
  cacheControl?: number | string | null
  /**
   * Answer `Access-Control-Request-Private-Network: true` with
   * `Access-Control-Allow-Private-Network: true` (Private Network Access).
   * @default false
   */
  allowPrivateNetwork?: boolean
  /**
   * Status of a successful preflight.
   * @default 204
   */
  optionsSuccessStatus?: number
}

/** Options of the `fleetCors` plugin. */
export interface FleetCorsOptions extends CorsPolicyOptions {
  /**
   * An `OPTIONS` request with `Access-Control-Request-Method` but no `Origin` gets 400 instead
   * of reaching the app.
   * @default true
   */
  strictPreflight?: boolean
  /** Caching of origin-function answers and of whole preflight answers. */
  cache?: CorsCacheOptions
}

export interface CorsCacheOptions {
  /**
   * Origin-function answers kept (least recently used go first).
   * @default 1000
   */
  max?: number
  /**
   * Seconds an allowed origin stays cached.
   * @default 300
   */
  allowedTtl?: number
  /**
   * Seconds a refused origin stays cached.
   * @default 30
   */
  refusedTtl?: number
  /**
   * Seconds a failed lookup (the function threw or timed out, a refusal) stays cached.
   * @default 1
   */
  errorTtl?: number
  /**
   * Milliseconds an origin function may take before its answer counts as a refusal.
   * @default 2000
   */
  timeout?: number
  /**
   * Whole preflight answers kept, per (policy, origin, method, requested headers).
   * @default 1000
   */
  preflightMax?: number
  /**
   * Extra cache key from the request, when the origin function's answer depends on more than
   * the origin (e.g. `(request) => request.host` for per-tenant hosts).
   * @default undefined (the origin alone)
   */
  key?: (request: FastifyRequest) => string
  /**
   * Share invalidations between processes without this plugin knowing how: `publish(origin)`
   * is called by `fastify.corsCache.invalidate(origin)`, and `subscribe(listener)` hands over a
   * listener to call with origins invalidated elsewhere (`undefined`: everything).
   * @default undefined
   */
  invalidation?: {
    publish: (origin: string | undefined) => void
    subscribe: (listener: (origin: string | undefined) => void) => void
  }
  /**
   * Clock for the TTLs, in milliseconds (tests use a fake one).
   * @default performance
   */
  clock?: { now: () => number }
}

export const DEFAULTS = {
  origin: '*',
  methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
  allowedHeaders: 'reflect',
  exposedHeaders: [],
  credentials: false,
  maxAge: 7200,
  cacheControl: null,
  allowPrivateNetwork: false,
  optionsSuccessStatus: 204
} as const satisfies Required<CorsPolicyOptions>

export const CACHE_DEFAULTS = {
  max: 1000,
  allowedTtl: 300,
  refusedTtl: 30,
  errorTtl: 1,
  timeout: 2000,
  preflightMax: 1000
} as const satisfies Required<Omit<CorsCacheOptions, 'key' | 'invalidation' | 'clock'>>

/** A policy checked and reduced to what the header emission needs. */
export interface PolicySpec {
  origin: { kind: 'any' } | { kind: 'reflect' } | { kind: 'none' } | { kind: 'list', list: OriginList } | { kind: 'function', fn: OriginFunction }
  methods: string[] | '*'
  allowedHeaders: string[] | '*' | 'reflect'
  exposedHeaders: string[] | '*'
  credentials: boolean
  maxAge: number | null
  cacheControl: string | null
  allowPrivateNetwork: boolean
  optionsSuccessStatus: number
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const POLICY_KEYS = new Set(Object.keys(DEFAULTS))

/** The option checks of fastify-fleet/cors, failing with `FST_FLEET_CORS_INVALID_OPTION`. */
const check: OptionKit = optionKit((name, reason) => { throw new FST_FLEET_CORS_INVALID_OPTION(name, reason) })
const invalid: (name: string, reason: string) => never = check.invalid

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof RegExp)

function tokens (value: unknown, name: string, lower: boolean): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && TOKEN.test(v))) {
    invalid(name, 'expected a list of header or method names')
  }
  return [...new Set(value.map((v: string) => lower ? v.toLowerCase() : v.toUpperCase()))]
}

function originSpec (value: unknown, where: string): PolicySpec['origin'] {
  if (value === '*') return { kind: 'any' }
  if (value === true) return { kind: 'reflect' }
  if (value === false) return { kind: 'none' }
  if (typeof value === 'function') return { kind: 'function', fn: value as OriginFunction }
  const items = Array.isArray(value) ? value : [value]
  const list: OriginList = { exact: new Set(), patterns: [] }
  for (const item of items) {
    if (item instanceof RegExp) {
      if (!isAnchored(item)) throw new FST_FLEET_CORS_UNANCHORED_REGEXP(where, String(item))
      if (item.global || item.sticky) invalid(`${where}.origin`, `${String(item)}: the g and y flags make RegExp.test() stateful`)
      list.patterns.push(item)
    } else if (typeof item === 'string') {
      if (item !== 'null' && canonicalOrigin(item) !== item) throw new FST_FLEET_CORS_INVALID_ORIGIN(where, JSON.stringify(item))
      list.exact.add(item)
    } else {
      invalid(`${where}.origin`, 'expected \'*\', a boolean, an origin, a RegExp, a list of those, or a function')
    }
  }
  if (items.length === 0) invalid(`${where}.origin`, 'an empty list allows nobody: use false')
  return { kind: 'list', list }
}

/**
 * Validates a policy (the plugin's options, or a route's over them); `where` names it in errors.
 * Returns a warning for a `maxAge` some browsers cap, for the caller to log.
 */
export function policySpec (input: Record<string, unknown>, where: string): { spec: PolicySpec, warning: string | null } {
  const get = <K extends keyof typeof DEFAULTS>(key: K): unknown => input[key] === undefined ? DEFAULTS[key] : input[key]
  const prefix = where === 'options' ? '' : `${where}.`
  const credentials = check.boolean(`${prefix}credentials`, input.credentials, DEFAULTS.credentials)
  const origin = originSpec(get('origin'), where)
  const methodsIn = get('methods')
  const methods = methodsIn === '*' ? '*' : tokens(methodsIn, `${prefix}methods`, false)
  const allowedIn = get('allowedHeaders')
  const allowedHeaders = allowedIn === '*' || allowedIn === 'reflect' ? allowedIn : tokens(allowedIn, `${prefix}allowedHeaders`, true)
  const exposedIn = get('exposedHeaders')
  const exposedHeaders = exposedIn === '*' ? '*' : tokens(exposedIn, `${prefix}exposedHeaders`, true)
  if (credentials) {
    const wildcard = origin.kind === 'any'
      ? 'origin \'*\''
      : origin.kind === 'reflect'
        ? 'origin: true (reflecting any origin)'
        : methods === '*' ? 'methods \'*\'' : allowedHeaders === '*' ? 'allowedHeaders \'*\'' : exposedHeaders === '*' ? 'exposedHeaders \'*\'' : null
    if (wildcard !== null) throw new FST_FLEET_CORS_CREDENTIALS_WILDCARD(where, wildcard)
  }
  const maxAge = get('maxAge')
  if (maxAge !== null && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) {
    invalid(`${prefix}maxAge`, 'expected a whole number of seconds ≥ 0, or null')
  }
  if (maxAge !== null && maxAge > 86400) throw new FST_FLEET_CORS_MAX_AGE(where, maxAge)
  const warning = maxAge !== null && maxAge > 7200
    ? `${where}: maxAge ${maxAge} is above Chromium's cap (7200 s) and WebKit's (600 s): those browsers cache preflights for less`
    : null
  const cacheIn = get('cacheControl')
  let cacheControl: string | null = null
  if (typeof cacheIn === 'number' && Number.isInteger(cacheIn) && cacheIn >= 0) cacheControl = `public, max-age=${cacheIn}`
  else if (typeof cacheIn === 'string' && cacheIn.length > 0 && !/[\r\n]/.test(cacheIn)) cacheControl = cacheIn
  else if (cacheIn !== null) invalid(`${prefix}cacheControl`, 'expected seconds, a Cache-Control value, or null')
  const allowPrivateNetwork = check.boolean(`${prefix}allowPrivateNetwork`, input.allowPrivateNetwork, DEFAULTS.allowPrivateNetwork)
  const status = check.oneOf(`${prefix}optionsSuccessStatus`, input.optionsSuccessStatus, DEFAULTS.optionsSuccessStatus as number, [200, 204])
  return {
    spec: { origin, methods, allowedHeaders, exposedHeaders, credentials, maxAge: maxAge as number | null, cacheControl, allowPrivateNetwork, optionsSuccessStatus: status },
    warning
  }
}

/** Checks a route's `config.cors` object: only policy fields. */
export function routePolicyInput (input: unknown, where: string): Record<string, unknown> {
  if (!isObject(input)) invalid(where, 'expected false or an object')
  for (const key of Object.keys(input)) if (!POLICY_KEYS.has(key)) invalid(`${where}.${key}`, 'unknown option (route policies take the policy fields only)')
  return input
}

export interface NormalizedCache {
  max: number
  allowedTtl: number
  refusedTtl: number
  errorTtl: number
  timeout: number
  preflightMax: number
  key: ((request: FastifyRequest) => string) | null
  invalidation: NonNullable<CorsCacheOptions['invalidation']> | null
  clock: { now: () => number }
}

export interface NormalizedCorsOptions {
  /** The plugin's own policy fields, for routes to merge over. */
  policyInput: Record<string, unknown>
  strictPreflight: boolean
  cache: NormalizedCache
}

function cacheOptions (input: unknown): NormalizedCache {
  const cache = check.object('cache', input === undefined ? {} : input)
  const number = (key: keyof typeof CACHE_DEFAULTS, min: number, max = Infinity): number => check.number(`cache.${key}`, cache[key], CACHE_DEFAULTS[key], { min, max })
  const key = check.fn<NormalizedCache['key']>('cache.key', cache.key, null, 'a function (request) => string')
  const invalidation = cache.invalidation ?? null
  if (invalidation !== null && (!isObject(invalidation) || typeof invalidation.publish !== 'function' || typeof invalidation.subscribe !== 'function')) {
    invalid('cache.invalidation', 'expected { publish(origin), subscribe(listener) }')
  }
  const clock = cache.clock ?? performance
  if (typeof (clock as { now?: unknown }).now !== 'function') invalid('cache.clock', 'expected { now() }')
  return {
    max: Math.floor(number('max', 1)),
    allowedTtl: number('allowedTtl', 0),
    refusedTtl: number('refusedTtl', 0),
    errorTtl: number('errorTtl', 0),
    timeout: number('timeout', 1, 2 ** 31 - 1),
    preflightMax: Math.floor(number('preflightMax', 1)),
    key,
    invalidation: invalidation as NormalizedCache['invalidation'],
    clock: clock as { now: () => number }
  }
}

/** Validates the plugin options at registration, never touching the caller's object. */
export function normalizeOptions (input: unknown): NormalizedCorsOptions {
  const options = check.object('options', input)
  check.known(options, [...POLICY_KEYS, 'strictPreflight', 'cache'])
  const strictPreflight = check.boolean('strictPreflight', options.strictPreflight, true)
  const policyInput: Record<string, unknown> = {}
  for (const key of POLICY_KEYS) if (options[key] !== undefined) policyInput[key] = options[key]
  return { policyInput, strictPreflight, cache: cacheOptions(options.cache) }
}
