import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { optionKit, type OptionKit } from '../internal/option-kit.js'
import { FST_FLEET_SERVER_ACME_INVALID_OPTION } from './errors.js'
import type { PemSource } from './options.js'

/** Let's Encrypt's production directory: trusted certificates, strict rate limits. */
export const LETS_ENCRYPT_PRODUCTION = 'https://acme-v02.api.letsencrypt.org/directory'
/** Let's Encrypt's staging directory: untrusted certificates, generous rate limits; try a set-up here first. */
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory'

/** A pino-like logger; Fastify's `app.log` fits. */
export interface AcmeLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

/** Backoff after a failed order, in milliseconds: `min`, then doubling up to `max`. */
export interface AcmeRetry {
  /**
   * Wait after the first failure.
   * @default 60000 (1 minute)
   */
  min?: number
  /**
   * Longest wait between attempts.
   * @default 21600000 (6 hours)
   */
  max?: number
}

/** Options of `new AcmeCertificates()`. */
export interface AcmeOptions {
  /**
   * URL of the ACME directory, e.g. `LETS_ENCRYPT_PRODUCTION` or `LETS_ENCRYPT_STAGING`. Must be `https:`.
   */
  directoryUrl: string
  /**
   * Contact e-mail of the ACME account (expiry and incident notices).
   */
  email: string
  /**
   * Host names the certificate is for (at most 100); the first is its subject. No wildcards
   * (HTTP-01 cannot validate them) and no IP addresses.
   */
  domains: string[]
  /**
   * Must be `true`: you agree to the ACME server's terms of service (Let's Encrypt's Subscriber Agreement).
   */
  termsOfServiceAgreed: true
  /**
   * Folder holding the account key (`account-key.pem`), the certificate's key (`key.pem`), the
   * full-chain certificate (`cert.pem`) and the pending challenges (`challenges/`). Created with
   * mode 0700; the key files are written with mode 0600.
   */
  dir: string
  /**
   * Seconds before expiry at which the certificate is renewed.
   * @default 2592000 (30 days)
   */
  renewBefore?: number
  /**
   * Backoff after a failed order (milliseconds), doubling from `min` to `max`.
   * @default { min: 60000, max: 21600000 }
   */
  retry?: AcmeRetry
  /**
   * CA certificate(s) to trust for the ACME server's own HTTPS (PEM text, a Buffer, a file path or a
   * `file:` URL), in addition to Node's default roots; for a private ACME server or a test one. TLS
   * checks are never turned off.
   * @default undefined (Node's default roots)
   */
  directoryCa?: PemSource
  /**
   * Where progress (`info`) and failures (`error`, with the coded error as `err`) are logged.
   * @default undefined (nothing is logged)
   */
  logger?: AcmeLogger
}

export const ACME_DEFAULTS = {
  renewBefore: 30 * 86400,
  retry: { min: 60_000, max: 6 * 3600_000 }
} as const

export interface NormalizedAcmeOptions {
  directoryUrl: string
  email: string
  domains: string[]
  dir: string
  renewBefore: number
  retry: { min: number, max: number }
  directoryCa: PemSource | undefined
  logger: AcmeLogger | undefined
}

const check: OptionKit = optionKit((name, reason) => { throw new FST_FLEET_SERVER_ACME_INVALID_OPTION(name, reason) })
const { invalid } = check

// RFC 1123 labels; at least two labels (ACME servers refuse single-label names)
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
const isHostName = (name: string): boolean => {
  const labels = name.split('.')
  return name.length <= 253 && labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^[0-9]+$/.test(labels.at(-1) as string)
}
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function normalizeDomains (input: unknown): string[] {
  if (!Array.isArray(input) || input.length === 0) invalid('domains', 'expected a non-empty list of host names')
  const domains = input as unknown[]
  if (domains.length > 100) invalid('domains', `at most 100 names fit one certificate, got ${domains.length}`)
  const seen = new Set<string>()
  return domains.map((value, i) => {
    const name = `domains[${i}]`
    if (typeof value !== 'string') invalid(name, 'expected a host name string')
    const host = (value as string).toLowerCase()
    if (host.startsWith('*.')) invalid(name, `${JSON.stringify(value)}: HTTP-01 cannot validate a wildcard name`)
    if (isIP(host) !== 0) invalid(name, `${JSON.stringify(value)}: expected a host name, not an IP address`)
    if (!isHostName(host)) invalid(name, `${JSON.stringify(value)} is not a fully qualified host name`)
    if (seen.has(host)) invalid(name, `${JSON.stringify(value)} is listed twice`)
    seen.add(host)
    return host
  })
}

const isPemSource = (value: unknown): value is PemSource =>
  (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value) || value instanceof URL

/** Validates the options of `new AcmeCertificates()` without touching the caller's object. */
export function normalizeAcmeOptions (input: unknown): NormalizedAcmeOptions {
  const opts = check.object('options', input)
  check.known(opts, ['directoryUrl', 'email', 'domains', 'termsOfServiceAgreed', 'dir', 'renewBefore', 'retry', 'directoryCa', 'logger'])

  const directoryUrl = check.string('directoryUrl', opts.directoryUrl, '')
  let url: URL
  try {
    url = new URL(directoryUrl)
  } catch {
    return invalid('directoryUrl', `${JSON.stringify(directoryUrl)} is not a URL`)
  }
  if (url.protocol !== 'https:') invalid('directoryUrl', `ACME runs over HTTPS (RFC 8555 §6.1), got ${JSON.stringify(directoryUrl)}`)

  const email = check.string('email', opts.email, '')
  if (!EMAIL.test(email)) invalid('email', `expected an e-mail address, got ${JSON.stringify(email)}`)
  const domains = normalizeDomains(opts.domains)
  if (opts.termsOfServiceAgreed !== true) {
    invalid('termsOfServiceAgreed', 'must be true: read and agree to the ACME server\'s terms of service')
  }
  const dir = resolve(check.string('dir', opts.dir, ''))
  const renewBefore = check.number('renewBefore', opts.renewBefore, ACME_DEFAULTS.renewBefore, { min: 0, integer: true })

  const retryIn = check.object('retry', opts.retry ?? {})
  check.known(retryIn, ['min', 'max'], 'retry.')
  const min = check.number('retry.min', retryIn.min, ACME_DEFAULTS.retry.min, { min: 1, max: 2 ** 31 - 1, integer: true })
  const max = check.number('retry.max', retryIn.max, Math.max(min, ACME_DEFAULTS.retry.max), { min: 1, max: 2 ** 31 - 1, integer: true })
  if (max < min) invalid('retry.max', `must not be shorter than retry.min (${min}), got ${max}`)

  if (opts.directoryCa !== undefined && !isPemSource(opts.directoryCa)) {
    invalid('directoryCa', 'expected PEM text, a Buffer, a file path or a file: URL')
  }
  let logger: AcmeLogger | undefined
  if (opts.logger !== undefined) {
    const log = check.object('logger', opts.logger)
    for (const level of ['info', 'warn', 'error']) {
      if (typeof log[level] !== 'function') invalid(`logger.${level}`, 'expected a function (a pino-like logger such as app.log)')
    }
    logger = log as unknown as AcmeLogger
  }

  return {
    directoryUrl: url.href,
    email,
    domains,
    dir,
    renewBefore,
    retry: { min, max },
    directoryCa: opts.directoryCa as PemSource | undefined,
    logger
  }
}
