import { LRUCache } from 'lru-cache'
import type { FastifyRequest } from 'fastify'
import type { CacheStats, Decision } from './origin-cache.js'
import type { Policy } from './policy.js'

/** A preflight answer, ready to send. */
export interface PreflightAnswer {
  status: number
  headers: Record<string, string>
}

/** What a preflight asks for. */
export interface PreflightRequest {
  origin: string
  method: string
  /** `Access-Control-Request-Headers` as sent, or `''`. */
  headers: string
  privateNetwork: boolean
}

const VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers'
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/
/** A refused preflight: no Access-Control-Allow-* headers, nothing cached by shared caches. */
export const REFUSAL: PreflightAnswer = Object.freeze({ status: 403, headers: Object.freeze({ vary: VARY }) }) as PreflightAnswer

/** The requested header names, lower-cased, or `null` when one is not a header name. */
function requestedHeaders (value: string): string[] | null {
  if (value === '') return []
  const names: string[] = []
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase()
    if (name === '') continue
    if (!TOKEN.test(name)) return null
    names.push(name)
  }
  return names
}

/** The answer to a preflight under `policy` once the origin is decided. */
export function preflightAnswer (policy: Policy, ask: PreflightRequest, decision: Decision): PreflightAnswer {
  if (!decision.allow) return REFUSAL
  const spec = policy.spec
  if (spec.methods !== '*' && !spec.methods.includes(ask.method.toUpperCase())) return REFUSAL
  const names = requestedHeaders(ask.headers)
  if (names === null) return REFUSAL
  if (Array.isArray(spec.allowedHeaders)) {
    const allowed = spec.allowedHeaders
    if (!names.every((n) => allowed.includes(n))) return REFUSAL
  }
  if (ask.privateNetwork && !spec.allowPrivateNetwork) return REFUSAL
  const headers: Record<string, string> = {
    'access-control-allow-origin': decision.value,
    'access-control-allow-methods': policy.allowMethods,
    vary: VARY
  }
  if (spec.credentials) headers['access-control-allow-credentials'] = 'true'
  const allowHeaders = policy.allowHeaders ?? names.join(', ')
  if (allowHeaders !== '') headers['access-control-allow-headers'] = allowHeaders
  if (policy.maxAge !== null) headers['access-control-max-age'] = policy.maxAge
  if (ask.privateNetwork) headers['access-control-allow-private-network'] = 'true'
  if (spec.cacheControl !== null) headers['cache-control'] = spec.cacheControl
  return { status: spec.optionsSuccessStatus, headers }
}

/** Whole preflight answers per (policy, origin, method, requested headers, PNA, extra key). */
export class PreflightCache {
  readonly #cache: LRUCache<string, PreflightAnswer>
  hits = 0
  misses = 0

  constructor (max: number, clock: { now: () => number }) {
    this.#cache = new LRUCache<string, PreflightAnswer>({ max, ttlAutopurge: false, ttlResolution: 0, perf: clock })
  }

  key (policy: Policy, ask: PreflightRequest, extra: string): string {
    return `${ask.origin}\0${policy.id}\0${ask.method}\0${ask.headers}\0${ask.privateNetwork ? 1 : 0}\0${extra}`
  }

  get (key: string): PreflightAnswer | undefined {
    const answer = this.#cache.get(key)
    if (answer === undefined) this.misses++
    else this.hits++
    return answer
  }

  /** Keeps an answer for `ttlSeconds` (0: as long as the LRU keeps it). */
  set (key: string, answer: PreflightAnswer, ttlSeconds: number): void {
    this.#cache.set(key, answer, ttlSeconds > 0 ? { ttl: ttlSeconds * 1000 } : {})
  }

  invalidate (origin?: string): void {
    if (origin === undefined) this.#cache.clear()
    else for (const key of [...this.#cache.keys()]) if (key.startsWith(origin + '\0')) this.#cache.delete(key)
  }

  stats (): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.#cache.size }
  }
}

/** The preflight question of a request, or `null` when it is not a preflight. */
export function preflightRequest (request: FastifyRequest, origin: string, method: string): PreflightRequest {
  const headers = request.headers['access-control-request-headers']
  return {
    origin,
    method,
    headers: typeof headers === 'string' ? headers : '',
    privateNetwork: request.headers['access-control-request-private-network'] === 'true'
  }
}
