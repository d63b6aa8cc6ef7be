import { createSecureServer, type Http2SecureServer, type Http2Session, type SecureServerOptions } from 'node:http2'
import type { FastifyServerFactory } from 'fastify'
import type { NormalizedLimits } from './limits.js'
import { attachCertificates, type CertificateSource } from './reload.js'
import type { TlsMaterial } from './tls-material.js'

/** How often Node checks the HTTP/1.1 headers and request timeouts (its default, 30 s, would let a slow client stay that much longer). */
export const TIMEOUT_CHECK_INTERVAL = 1000

/** The HTTP/2 limits, as `http2.createSecureServer()` options. */
export function http2Limits (limits: NormalizedLimits): SecureServerOptions {
  return {
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderSize },
    maxSessionMemory: limits.maxSessionMemory,
    maxSettings: limits.maxSettings,
    maxSessionInvalidFrames: limits.maxSessionInvalidFrames,
    maxSessionRejectedStreams: limits.maxSessionRejectedStreams,
    maxOutstandingPings: limits.maxOutstandingPings,
    unknownProtocolTimeout: limits.unknownProtocolTimeout
  }
}

interface FactoryOptions {
  https: SecureServerOptions
  http2SessionTimeout: number
  connectionTimeout: number
  keepAliveTimeout: number
  requestTimeout: number
  forceCloseConnections?: boolean | 'idle'
  /** Fastify's logger: the factory gets the options after Fastify put its logger there. */
  logger: Parameters<typeof attachCertificates>[4]
}

type FleetHttp2Server = Http2SecureServer & {
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  maxHeaderSize: number
  connectionsCheckingInterval: number
  closeHttp2Sessions?: () => void
}

/** The material a server starts with and where to read it again (servers made from key and cert). */
export interface FactoryCertificates {
  source: CertificateSource
  first: TlsMaterial
}

/**
 * Fastify's own HTTP/2 server (fastify/lib/server.js), plus the HTTP/1.1 limits of the fallback:
 * Node 20 and 22 take those from the server object only, never from createSecureServer's options,
 * and Fastify sets them on HTTP/1.1 servers only. Fastify hands this factory its options, so the
 * timeouts a user sets on the Fastify call win over ours. With `certificates`, the server can
 * reload its key and certificate (`reloadCertificates()`, `watch`).
 */
export function secureServerFactory (limits: NormalizedLimits, certificates?: FactoryCertificates): FastifyServerFactory<Http2SecureServer> {
  return (handler, fastifyOptions) => {
    const opts = fastifyOptions as unknown as FactoryOptions
    const server = createSecureServer(opts.https, handler) as FleetHttp2Server
    server.on('session', (session: Http2Session) => session.setTimeout(opts.http2SessionTimeout, () => { session.close() }))
    server.setTimeout(opts.connectionTimeout)
    if (opts.forceCloseConnections === true) server.closeHttp2Sessions = closeHttp2Sessions(server)

    server.headersTimeout = limits.headersTimeout
    server.requestTimeout = opts.requestTimeout
    server.keepAliveTimeout = opts.keepAliveTimeout
    server.maxHeaderSize = limits.maxHeaderSize
    // read when the server starts listening
    server.connectionsCheckingInterval = TIMEOUT_CHECK_INTERVAL
    if (certificates !== undefined) attachCertificates(server, opts.https, certificates.source, certificates.first, opts.logger)
    return server
  }
}

/** What Fastify's server closes on `app.close()` with `forceCloseConnections: true` (Node 24 does it itself). */
function closeHttp2Sessions (server: Http2SecureServer): () => void {
  const sessions = new Set<Http2Session>()
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  return () => { for (const session of sessions) session.close() }
}
