import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { normalizeOptions, policySpec, routePolicyInput, type CorsPolicyOptions, type FleetCorsOptions } from './options.js'
import { OriginDecisionCache, type CacheStats, type Decision } from './origin-cache.js'
import { compilePolicy, type Policy } from './policy.js'
import { PreflightCache, preflightAnswer, preflightRequest, REFUSAL, type PreflightAnswer } from './preflight.js'
import { RouteTable, type RoutePolicy } from './route-table.js'
import { appendVary } from './vary.js'

export * from './errors.js'
export type { CorsCacheOptions, CorsPolicyOptions, FleetCorsOptions, OriginAnswer, OriginFunction, OriginOption } from './options.js'
export type { CacheStats } from './origin-cache.js'

/** `fastify.corsCache`: the server-side caches of `fleetCors`. */
export interface CorsCache {
  /** Origin-function answers (hits, misses, size), and whole preflight answers under `preflight`. */
  stats: () => CacheStats & { preflight: CacheStats }
  /**
   * Forgets what is cached about `origin` (or everything): call it when an allowlist changes.
   * Also calls `cache.invalidation.publish(origin)` when set, so other processes forget it too.
   */
  invalidate: (origin?: string) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    corsCache: CorsCache
  }
  interface FastifyContextConfig {
    /** This route's CORS policy (fields over the plugin's options), or `false` for no CORS at all. */
    cors?: false | CorsPolicyOptions
  }
}

function send (reply: FastifyReply, answer: PreflightAnswer): void {
  reply.code(answer.status).headers(answer.headers).send()
}

function apply (reply: FastifyReply, policy: Policy, decision: Decision): void {
  if (!decision.allow) return
  reply.header('access-control-allow-origin', decision.value)
  if (policy.spec.credentials) reply.header('access-control-allow-credentials', 'true')
  if (policy.exposeHeaders !== null) reply.header('access-control-expose-headers', policy.exposeHeaders)
}

/** The hook that adds CORS headers to actual (non-preflight) requests under `policy`. */
function actualHook (policy: Policy): onRequestHookHandler {
  return function cors (request, reply, next) {
    const origin = request.headers.origin
    if (policy.anyOrigin) {
      // the same answer for everyone, Origin or not: a shared cache may serve it to anyone
      reply.header('access-control-allow-origin', '*')
      if (policy.exposeHeaders !== null) reply.header('access-control-expose-headers', policy.exposeHeaders)
      return next()
    }
    appendVary(reply, 'Origin')
    if (origin === undefined) return next()
    const decision = policy.decide(origin, request)
    if (decision instanceof Promise) {
      decision.then((d) => { apply(reply, policy, d); next() }, /* c8 ignore next -- decisions never reject */ next)
      return
    }
    apply(reply, policy, decision)
    next()
  }
}

// async: a bad option rejects registration (a synchronous throw would escape avvio)
const plugin: FastifyPluginAsync<FleetCorsOptions> = async (fastify, options) => {
  const opts = normalizeOptions(options)
  const cache = opts.cache
  const decisions = new OriginDecisionCache(cache)
  const preflights = new PreflightCache(cache.preflightMax, cache.clock)
  const compile = (input: Record<string, unknown>, where: string): Policy => {
    const { spec, warning } = policySpec(input, where)
    if (warning !== null) fastify.log.warn({ code: 'FST_FLEET_CORS_MAX_AGE_CAPPED' }, `fastify-fleet/cors: ${warning}`)
    return compilePolicy(spec, decisions, cache.key)
  }
  const global = compile(opts.policyInput, 'options')
  const globalHook = actualHook(global)

  const forget = (origin: string | undefined): void => {
    decisions.invalidate(origin)
    preflights.invalidate(origin)
  }
  cache.invalidation?.subscribe(forget)
  fastify.decorate('corsCache', {
    stats: () => ({ ...decisions.stats(), preflight: preflights.stats() }),
    invalidate: (origin?: string) => {
      forget(origin)
      cache.invalidation?.publish(origin)
    }
  } satisfies CorsCache)

  // Each route gets its policy compiled now, a hook for actual requests, and an entry in the
  // table preflights are answered from. A plugin's hooks apply to routes declared after it.
  const table = new RouteTable(fastify.initialConfig)
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.cors
    const where = `config.cors of ${String(route.method)} ${route.url}`
    const policy: RoutePolicy = config === false
      ? false
      : config === undefined ? global : compile({ ...opts.policyInput, ...routePolicyInput(config, where) }, where)
    table.add(route.method, route.url, policy)
    if (policy === false) return
    const hook = policy === global ? globalHook : actualHook(policy)
    route.onRequest = route.onRequest === undefined ? [hook] : [...[route.onRequest].flat(), hook]
  })

  const preflight = (request: FastifyRequest, reply: FastifyReply, origin: string, method: string): void => {
    const policy = table.find(method.toUpperCase(), request.url)
    if (policy === null || policy === false) return send(reply, REFUSAL)
    const ask = preflightRequest(request, origin, method)
    const viaFunction = policy.spec.origin.kind === 'function'
    let extra = ''
    if (viaFunction && cache.key !== null) {
      try {
        extra = cache.key(request)
      } catch {
        return send(reply, REFUSAL)
      }
    }
    const key = preflights.key(policy, ask, extra)
    const cached = preflights.get(key)
    if (cached !== undefined) return send(reply, cached)
    const finish = (decision: Decision): void => {
      const answer = preflightAnswer(policy, ask, decision)
      // a function's refusals are cached (briefly) by the decision cache, not here
      if (!viaFunction) preflights.set(key, answer, 0)
      else if (answer !== REFUSAL) preflights.set(key, answer, cache.allowedTtl)
      send(reply, answer)
    }
    const decision = policy.decide(origin, request)
    if (decision instanceof Promise) decision.then(finish, /* c8 ignore next -- decisions never reject */ () => send(reply, REFUSAL))
    else finish(decision)
  }

  // One root hook answers preflights (whichever route they are about, before routing to the
  // app's own OPTIONS routes) and covers requests that match no route.
  fastify.addHook('onRequest', (request, reply, next) => {
    if (request.method === 'OPTIONS') {
      const method = request.headers['access-control-request-method']
      if (typeof method === 'string') {
        const origin = request.headers.origin
        if (typeof origin === 'string') return preflight(request, reply, origin, method)
        if (opts.strictPreflight) {
          reply.code(400).type('text/plain; charset=utf-8').send('Invalid preflight request: Access-Control-Request-Method without Origin\n')
          return
        }
      }
    }
    if (request.is404) return globalHook.call(fastify, request, reply, next)
    next()
  })
}

/**
 * CORS with preflight caching: preflights answered with the policy of the route the real request
 * would hit (`config.cors`), refused when that route refuses or does not exist; browser caching
 * through `Access-Control-Max-Age`, shared caches through `Cache-Control` and `Vary`, and
 * server-side memoisation of origin functions and whole preflight answers (`fastify.corsCache`).
 */
export const fleetCors = fp(plugin, { name: 'fastify-fleet-cors', fastify: '5.x' })
export default fleetCors
