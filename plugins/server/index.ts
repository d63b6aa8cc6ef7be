export { AcmeCertificates, LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING, type AcmeLogger, type AcmeOptions, type AcmeResult, type AcmeRetry } from './acme.js'
import type { Server } from 'node:http'
import type { Http2SecureServer } from 'node:http2'
import type { FastifyHttp2SecureOptions, FastifyHttpOptions } from 'fastify'
import { devCertificate } from './dev-certificate.js'
import { FST_FLEET_SERVER_TLS_MISSING } from './errors.js'
import { normalizeOptions, type PlainServerOptions, type SecureServerOptions } from './options.js'
import { filesOf } from './reload.js'
import { http2Limits, secureServerFactory, TIMEOUT_CHECK_INTERVAL, type FactoryCertificates } from './secure-server.js'
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js'

export { devCertificate, defaultCacheDir, type DevCertificate } from './dev-certificate.js'
export * from './errors.js'
export type { DevCertificateOptions, PemSource, PlainServerOptions, SecureServerOptions, ServerOptionsInput, WatchOptions } from './options.js'
export { reloadCertificates, type CertificateReport } from './reload.js'
export { LIMIT_DEFAULTS, type ServerLimits } from './limits.js'

/** Fastify options for HTTP/2 over TLS with the HTTP/1.1 fallback. */
export type FleetSecureServerOptions = FastifyHttp2SecureOptions<Http2SecureServer> & {
  http2: true
  https: FastifyHttp2SecureOptions<Http2SecureServer>['https'] & {
    key: string
    cert: string
    allowHTTP1: boolean
    minVersion: 'TLSv1.2' | 'TLSv1.3'
  }
  http2SessionTimeout: number
  keepAliveTimeout: number
  requestTimeout: number
}

/** Fastify options for plain HTTP/1.1. */
export type FleetPlainServerOptions = FastifyHttpOptions<Server> & {
  http2?: false
  https?: null
  keepAliveTimeout: number
  requestTimeout: number
}

/**
 * Fastify server options for HTTP/2 over TLS with the HTTP/1.1 fallback on the same port:
 * `fastify(await serverOptions({ key, cert, ca }))`. TLS material may be PEM text or file
 * paths and is checked now (readable, key matches, not expired), so a bad file fails at
 * start-up with a coded error that names it. Without `key`/`cert`, development mode uses a
 * cached self-signed certificate and production mode fails. `protocol: 'http'` gives plain HTTP/1.1.
 * `limits` bound what one client may take (HTTP/2 streams, header size, timeouts); the HTTP/2
 * server comes from a `serverFactory` that also applies the HTTP/1.1 timeouts to the fallback.
 */
export async function serverOptions (options: PlainServerOptions): Promise<FleetPlainServerOptions>
export async function serverOptions (options?: SecureServerOptions): Promise<FleetSecureServerOptions>
export async function serverOptions (
  options: SecureServerOptions | PlainServerOptions = {}
): Promise<FleetSecureServerOptions | FleetPlainServerOptions> {
  const opts = normalizeOptions(options)
  const { limits } = opts
  const timeouts = { keepAliveTimeout: limits.keepAliveTimeout, requestTimeout: limits.requestTimeout }
  if (opts.protocol === 'http') {
    return {
      http2: false,
      // Fastify hands `http` to http.createServer() and sets the two timeouts on the server itself
      http: { headersTimeout: limits.headersTimeout, maxHeaderSize: limits.maxHeaderSize, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL },
      ...timeouts
    }
  }

  let material: { key: string, cert: string, ca?: string[] }
  let certificates: FactoryCertificates | undefined
  if (opts.key !== undefined && opts.cert !== undefined) {
    const sources = { key: opts.key, cert: opts.cert, ca: opts.ca, passphrase: opts.passphrase }
    const load = async (): Promise<TlsMaterial> => await loadTlsMaterial(sources)
    const first = await load()
    material = first
    certificates = { source: { load, files: filesOf([opts.key, opts.cert, ...opts.ca]), watchInterval: opts.watch }, first }
  } else if (opts.mode === 'production') {
    throw new FST_FLEET_SERVER_TLS_MISSING()
  } else {
    material = await devCertificate(opts.devCertificate)
  }

  const https: FleetSecureServerOptions['https'] = {
    ...http2Limits(limits),
    allowHTTP1: opts.allowHTTP1,
    key: material.key,
    cert: material.cert,
    minVersion: opts.minVersion
  }
  if (material.ca !== undefined && material.ca.length > 0) https.ca = material.ca
  if (opts.passphrase !== undefined) https.passphrase = opts.passphrase
  return { http2: true, https, http2SessionTimeout: limits.http2SessionTimeout, ...timeouts, serverFactory: secureServerFactory(limits, certificates) }
}
