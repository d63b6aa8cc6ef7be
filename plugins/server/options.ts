import { optionKit, type OptionKit } from '../internal/option-kit.js'
import { FST_FLEET_SERVER_INVALID_OPTION } from './errors.js'
import { resolveMode, type Mode } from '../internal/mode.js'
import { normalizeLimits, type NormalizedLimits, type ServerLimits } from './limits.js'
import { pemFilePath } from './tls-material.js'

/**
 * TLS material: PEM text (string or Buffer), or the path of a PEM file
 * (string or `file:` URL). A string that contains `-----BEGIN` is PEM text.
 */
export type PemSource = string | Buffer | URL

/** Options of `devCertificate()`. */
export interface DevCertificateOptions {
  /**
   * Folder that caches the certificate between runs; created with mode 0700,
   * the PEM file inside with mode 0600.
   * @default `$XDG_CACHE_HOME/fastify-fleet` (else `~/.cache/fastify-fleet`;
   * `~/Library/Caches/fastify-fleet` on macOS, `%LOCALAPPDATA%\fastify-fleet` on Windows)
   */
  cacheDir?: string
  /**
   * Names and IP addresses the certificate is valid for (subject alternative names).
   * @default ['localhost', '127.0.0.1', '::1']
   */
  hosts?: string[]
  /**
   * Validity of a new certificate, in days.
   * @default 30
   */
  days?: number
  /**
   * A cached certificate that expires within this many seconds is made anew.
   * @default 86400
   */
  renewBefore?: number
}

/** Options of `serverOptions()` for HTTP/2 over TLS with the HTTP/1.1 fallback. */
export interface SecureServerOptions {
  /**
   * `'https'`: HTTP/2 over TLS, HTTP/1.1 on the same port for clients without `h2`.
   * @default 'https'
   */
  protocol?: 'https'
  /**
   * Private key (PEM text or file path). Without `key` and `cert`, development mode uses
   * `devCertificate()` and production mode fails with `FST_FLEET_SERVER_TLS_MISSING`.
   * @default undefined
   */
  key?: PemSource
  /**
   * Certificate (PEM text or file path); may hold the intermediate chain after the leaf.
   * @default undefined
   */
  cert?: PemSource
  /**
   * Intermediate CA certificates (PEM text or file paths, each may hold several).
   * The issuers of `cert` found here are presented to clients after it.
   * @default undefined
   */
  ca?: PemSource | PemSource[]
  /**
   * Passphrase of an encrypted private key.
   * @default undefined
   */
  passphrase?: string
  /**
   * Oldest TLS version accepted.
   * @default 'TLSv1.2'
   */
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  /**
   * Accept HTTP/1.1 clients (ALPN `http/1.1` or none) on the HTTP/2 port.
   * @default true
   */
  allowHTTP1?: boolean
  /**
   * `'production'` never makes a self-signed certificate.
   * @default `'production'` when `NODE_ENV=production`, else `'development'`
   */
  mode?: Mode
  /**
   * Options of the development certificate, used only when no `key`/`cert` is given.
   * @default {}
   */
  devCertificate?: DevCertificateOptions
  /**
   * What one client may take of the server (HTTP/2 streams, header size, timeouts); see `ServerLimits`.
   * Each missing limit takes its default (`LIMIT_DEFAULTS`).
   * @default {}
   */
  limits?: ServerLimits
  /**
   * Reload the key, certificate and CA files when they change (certbot's renewal, a Kubernetes
   * secret): polled every `interval` ms, checked as at start-up, swapped into the running server.
   * A bad new file keeps the old certificate and logs `FST_FLEET_SERVER_TLS_RELOAD_FAILED`. In a
   * worker of `startCluster()` the primary polls and tells every worker. Needs `key` and `cert` as
   * file paths. `reloadCertificates(app)` reloads by hand, with or without it.
   * @default false
   */
  watch?: boolean | WatchOptions
}

/** Options of `serverOptions({ watch })`. */
export interface WatchOptions {
  /**
   * Milliseconds between two looks at the files (a `stat` each). A change is taken once the files
   * stay the same for one more look, so the new certificate is served within two intervals.
   * @default 10000
   */
  interval?: number
}

/** Options of `serverOptions()` for plain HTTP/1.1 (local development, or behind a TLS proxy). */
export interface PlainServerOptions {
  /** `'http'`: plain HTTP/1.1, no TLS. */
  protocol: 'http'
  /**
   * Accepted for symmetry with the secure options; plain HTTP needs no TLS material.
   * @default `'production'` when `NODE_ENV=production`, else `'development'`
   */
  mode?: Mode
  /**
   * The HTTP/1.1 limits (`maxHeaderSize`, `headersTimeout`, `requestTimeout`, `keepAliveTimeout`)
   * apply; the HTTP/2 ones are accepted and have no effect.
   * @default {}
   */
  limits?: ServerLimits
}

export type ServerOptionsInput = SecureServerOptions | PlainServerOptions

export const DEFAULTS = {
  protocol: 'https',
  minVersion: 'TLSv1.2',
  allowHTTP1: true
} as const satisfies Required<Pick<SecureServerOptions, 'protocol' | 'minVersion' | 'allowHTTP1'>>

/** How often `watch: true` looks at the TLS files, in milliseconds. */
export const WATCH_INTERVAL = 10_000

export const DEV_CERT_DEFAULTS = {
  hosts: ['localhost', '127.0.0.1', '::1'],
  days: 30,
  renewBefore: 86400
} as const satisfies Required<Omit<DevCertificateOptions, 'cacheDir'>>

export interface NormalizedSecureOptions {
  protocol: 'https'
  key: PemSource | undefined
  cert: PemSource | undefined
  ca: PemSource[]
  passphrase: string | undefined
  minVersion: 'TLSv1.2' | 'TLSv1.3'
  allowHTTP1: boolean
  mode: Mode
  devCertificate: DevCertificateOptions
  limits: NormalizedLimits
  /** Milliseconds between looks at the TLS files, `null` without `watch`. */
  watch: number | null
}

export interface NormalizedPlainOptions {
  protocol: 'http'
  mode: Mode
  limits: NormalizedLimits
}

const isPemSource = (value: unknown): value is PemSource =>
  (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value) || value instanceof URL

const check: OptionKit = optionKit((name, reason) => { throw new FST_FLEET_SERVER_INVALID_OPTION(name, reason) })
const invalid: (name: string, reason: string) => never = check.invalid

/** Validates the options of `serverOptions()` without touching the caller's object. */
export function normalizeOptions (input: unknown = {}): NormalizedSecureOptions | NormalizedPlainOptions {
  const opts = check.object('options', input)
  // a misspelt `cert` must not quietly become a self-signed certificate
  check.known(opts, ['protocol', 'key', 'cert', 'ca', 'passphrase', 'minVersion', 'allowHTTP1', 'mode', 'devCertificate', 'limits', 'watch'])
  const protocol = check.oneOf<'https' | 'http'>('protocol', opts.protocol, DEFAULTS.protocol, ['https', 'http'])
  const mode = check.oneOf<Mode>('mode', opts.mode, resolveMode(), ['development', 'production'])
  const limits = normalizeLimits(check, opts.limits)
  if (protocol === 'http') {
    for (const name of ['key', 'cert', 'ca', 'passphrase', 'watch']) {
      if (opts[name] !== undefined) invalid(name, "TLS material makes no sense with protocol: 'http'")
    }
    return { protocol, mode, limits }
  }

  for (const name of ['key', 'cert'] as const) {
    if (opts[name] !== undefined && !isPemSource(opts[name])) {
      invalid(name, 'expected PEM text, a Buffer, a file path or a file: URL')
    }
  }
  if ((opts.key === undefined) !== (opts.cert === undefined)) {
    invalid(opts.key === undefined ? 'key' : 'cert', '`key` and `cert` go together')
  }
  const ca = opts.ca === undefined ? [] : Array.isArray(opts.ca) ? opts.ca : [opts.ca]
  if (!ca.every(isPemSource)) invalid('ca', 'expected PEM text, a Buffer, a file path or a list of those')
  if (ca.length > 0 && opts.cert === undefined) invalid('ca', '`ca` needs `key` and `cert`')
  if (opts.passphrase !== undefined) check.string('passphrase', opts.passphrase, '', true)
  const minVersion = check.oneOf<'TLSv1.2' | 'TLSv1.3'>('minVersion', opts.minVersion, DEFAULTS.minVersion, ['TLSv1.2', 'TLSv1.3'])
  const allowHTTP1 = check.boolean('allowHTTP1', opts.allowHTTP1, DEFAULTS.allowHTTP1)
  const devCertificate = check.object('devCertificate', opts.devCertificate === undefined ? {} : opts.devCertificate)
  const watch = normalizeWatch(opts.watch, opts.key, opts.cert)

  return {
    protocol,
    key: opts.key as PemSource | undefined,
    cert: opts.cert as PemSource | undefined,
    ca: ca as PemSource[],
    passphrase: opts.passphrase as string | undefined,
    minVersion,
    allowHTTP1,
    mode,
    devCertificate: { ...devCertificate as DevCertificateOptions },
    limits,
    watch
  }
}

const isFile = (source: unknown): boolean => isPemSource(source) && pemFilePath(source) !== null

/** `watch`: `false`/`undefined` → `null`, `true` → the default interval, `{ interval }` checked. */
function normalizeWatch (input: unknown, key: unknown, cert: unknown): number | null {
  if (input === undefined || input === false) return null
  let interval = WATCH_INTERVAL
  if (input !== true) {
    const opts = check.object('watch', input)
    check.known(opts, ['interval'], 'watch.')
    interval = check.number('watch.interval', opts.interval, WATCH_INTERVAL, { min: 100, max: 86_400_000, integer: true })
  }
  if (!isFile(key) || !isFile(cert)) invalid('watch', 'needs `key` and `cert` as file paths (PEM text does not change)')
  return interval
}

export interface NormalizedDevCertificateOptions {
  cacheDir: string | undefined
  hosts: string[]
  days: number
  renewBefore: number
}

/** Validates the options of `devCertificate()`. */
export function normalizeDevCertificateOptions (input: unknown = {}): NormalizedDevCertificateOptions {
  const opts = check.object('devCertificate', input)
  check.known(opts, ['cacheDir', 'hosts', 'days', 'renewBefore'], 'devCertificate.')
  const cacheDir = opts.cacheDir === undefined ? undefined : check.string('devCertificate.cacheDir', opts.cacheDir, '')
  const hosts = opts.hosts ?? DEV_CERT_DEFAULTS.hosts
  if (!Array.isArray(hosts) || hosts.length === 0 || !hosts.every((h) => typeof h === 'string' && h.length > 0)) {
    invalid('devCertificate.hosts', 'expected a non-empty list of host names or IP addresses')
  }
  const days = check.number('devCertificate.days', opts.days, DEV_CERT_DEFAULTS.days, { min: 1, max: 825, integer: true })
  const renewBefore = check.number('devCertificate.renewBefore', opts.renewBefore, DEV_CERT_DEFAULTS.renewBefore, { min: 0 })
  if (renewBefore >= days * 86400) {
    invalid('devCertificate.renewBefore', 'must be shorter than the validity (`days`)')
  }
  return { cacheDir, hosts: [...hosts], days, renewBefore }
}
