import fp from 'fastify-plugin'
import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify'
import { parseHost, isLocalOrIp } from '../internal/host.js'
import { headerFields, headerValue, normalizeOptions, type FleetHstsOptions, type HstsRouteOptions } from './options.js'
import { redirectDecision } from './redirect.js'

export { httpsRedirectServer, redirectListener, type HttpsRedirectServer, type HttpsRedirectServerOptions } from './redirect-server.js'
export * from './errors.js'
export type { AcmeChallenge } from './acme.js'
export type { FleetHstsOptions, HstsHeaderOptions, HstsRouteOptions, RedirectOptions } from './options.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: no Strict-Transport-Security on this route; an object overrides header fields. */
    hsts?: false | HstsRouteOptions
  }
}

const HEADER = 'strict-transport-security'
// distinct Host values remembered as local-or-not; past this many, the memo starts over
const HOST_MEMO_LIMIT = 1000

type Hook = onRequestHookHandler

// async: a bad option rejects registration (a synchronous throw would escape avvio)
const plugin: FastifyPluginAsync<FleetHstsOptions> = async (fastify, options) => {
  const opts = normalizeOptions(options)

  const local = new Map<string, boolean>()
  const isLocal = (host: string): boolean => {
    let answer = local.get(host)
    if (answer === undefined) {
      const parsed = parseHost(host)
      answer = parsed !== null && isLocalOrIp(parsed)
      if (local.size >= HOST_MEMO_LIMIT) local.clear()
      local.set(host, answer)
    }
    return answer
  }
  const skip = opts.skipLocalhost ? isLocal : () => false
  const sender = (value: string): Hook => function hsts (request, reply, next) {
    if (request.protocol === 'https' && !skip(request.host)) reply.header(HEADER, value)
    next()
  }

  // Each route gets its own hook with its header value built now, when the route is declared;
  // `config.hsts: false` routes get none. A plugin's hooks apply to routes declared after it.
  const defaultSender = sender(opts.header)
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.hsts
    if (config === false) return
    const hook = config === undefined
      ? defaultSender
      : sender(headerValue(headerFields(config, opts.fields, `config.hsts of ${String(route.method)} ${route.url}`)))
    route.onRequest = route.onRequest === undefined ? [hook] : [...[route.onRequest].flat(), hook]
  })

  // Requests that match no route (404) are not declared routes: one root hook covers them, and
  // with `redirect` it sends plain-HTTP requests to HTTPS before any route runs.
  const redirect = opts.redirect
  fastify.addHook('onRequest', (request, reply, next) => {
    if (request.protocol !== 'https') {
      // plain HTTP never gets the header (RFC 6797 §7.2); with `redirect` it gets sent to HTTPS
      if (redirect === null) return next()
      const acme = redirect.acme?.(request.method, request.url)
      if (acme != null) {
        acme.then((answer) => {
          if (answer.error !== undefined) request.log.error({ err: answer.error }, 'ACME challenge lookup failed')
          reply.code(answer.status).type('text/plain; charset=utf-8').send(answer.body)
        }, /* c8 ignore next -- answers never reject: lookup errors become 500 */ next)
        return
      }
      const decision = redirectDecision(request.method, request.host, request.url, redirect, request.raw.rawHeaders)
      if (decision.status === 400) reply.code(400).type('text/plain; charset=utf-8').send(`Bad Request: ${decision.reason}\n`)
      else reply.code(decision.status).header('location', decision.location).send()
      return
    }
    if (request.is404 && !skip(request.host)) reply.header(HEADER, opts.header)
    next()
  })
}

/**
 * `Strict-Transport-Security` the way RFC 6797 says: built once at registration, one header per
 * response, only on requests that arrived over TLS (`request.protocol === 'https'`, so it follows
 * `trustProxy`), not for localhost or IP literals by default; per route `config.hsts`. With
 * `redirect`, plain-HTTP requests are redirected to HTTPS on an allowed host instead.
 */
export const fleetHsts = fp(plugin, { name: 'fastify-fleet-hsts', fastify: '5.x' })
export default fleetHsts
