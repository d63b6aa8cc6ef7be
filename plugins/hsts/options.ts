import { resolveMode, type Mode } from '../internal/mode.js'
import { optionKit, type OptionKit } from '../internal/option-kit.js'
import { compileAllowedHosts, LOOPBACK_HOSTS, type HostMatcher } from './allowed-hosts.js'
import { FST_FLEET_HSTS_ALLOWED_HOSTS_REQUIRED, FST_FLEET_HSTS_INVALID_OPTION, FST_FLEET_HSTS_PRELOAD_REQUIREMENTS } from './errors.js'
import { normalizeAcme, type AcmeChallenge, type AcmeResponder } from './acme.js'

/** The fields of the `Strict-Transport-Security` header. */
export interface HstsHeaderOptions {
  /**
   * How long browsers remember to use HTTPS only, in seconds (`max-age`). 0 tells them to forget.
   * @default 31536000
   */
  maxAge?: number
  /**
   * Applies to every subdomain too (`includeSubDomains`).
   * @default true
   */
  includeSubDomains?: boolean
  /**
   * Asks to be put on the browsers' preload list (`preload`). Hard to undo: removal takes months.
   * Requires `maxAge ≥ 31536000` and `includeSubDomains: true`.
   * @default false
   */
  preload?: boolean
}

/** Per-route override in `config.hsts` (`false` sends no header on that route). */
export type HstsRouteOptions = HstsHeaderOptions

/** Options of the redirect of plain-HTTP requests to HTTPS. */
export interface RedirectOptions {
  /**
   * Hosts the redirect may send to: exact names or IP addresses, and `*.example.com` wildcards.
   * Any other Host gets 400 with no `Location`.
   * @default the loopback names (`localhost`, `127.0.0.1`, `::1`) in development; required in production
   */
  allowedHosts?: string[]
  /**
   * Port of the HTTPS server in the `Location` (left out when 443).
   * @default 443
   */
  httpsPort?: number
  /**
   * Answers `/.well-known/acme-challenge/<token>` instead of redirecting it (Let's Encrypt HTTP-01):
   * a folder holding one file per token, or a function from token to key authorization.
   * @default undefined
   */
  acmeChallenge?: AcmeChallenge
  /**
   * `'production'` requires `allowedHosts`.
   * @default `'production'` when `NODE_ENV=production`, else `'development'`
   */
  mode?: Mode
}

/** Options of the `fleetHsts` plugin. */
export interface FleetHstsOptions extends HstsHeaderOptions {
  /**
   * Sends no header for `localhost`, `*.localhost` and IP-literal hosts: browsers ignore HSTS for
   * IP literals, and HSTS on localhost would follow the developer into every other local project.
   * @default true
   */
  skipLocalhost?: boolean
  /**
   * Redirects requests that arrived over plain HTTP (`request.protocol === 'http'`) to HTTPS,
   * for an app that receives both. `true` uses the defaults.
   * @default false
   */
  redirect?: boolean | RedirectOptions
}

export const DEFAULTS = {
  maxAge: 31536000,
  includeSubDomains: true,
  preload: false,
  skipLocalhost: true,
  redirect: false
} as const satisfies Required<FleetHstsOptions>

export const REDIRECT_DEFAULTS = {
  httpsPort: 443
} as const satisfies Pick<Required<RedirectOptions>, 'httpsPort'>

/** Redirect options checked and compiled. */
export interface NormalizedRedirect {
  allowed: HostMatcher
  httpsPort: number
  acme: AcmeResponder | null
}

export interface NormalizedHstsOptions {
  /** The header value, built once. */
  header: string
  skipLocalhost: boolean
  redirect: NormalizedRedirect | null
  /** Header fields, for merging route overrides. */
  fields: Required<HstsHeaderOptions>
}

/** The option checks of fastify-fleet/hsts, failing with `FST_FLEET_HSTS_INVALID_OPTION`. */
export const check: OptionKit = optionKit((name, reason) => { throw new FST_FLEET_HSTS_INVALID_OPTION(name, reason) })

/** Checks header fields over `base` and returns them complete; `where` names them in errors. */
export function headerFields (input: unknown, base: Required<HstsHeaderOptions>, where: string): Required<HstsHeaderOptions> {
  const options = check.object(where, input)
  const prefix = where === 'options' ? '' : where + '.'
  const fields = {
    maxAge: check.number(`${prefix}maxAge`, options.maxAge, base.maxAge, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }),
    includeSubDomains: check.boolean(`${prefix}includeSubDomains`, options.includeSubDomains, base.includeSubDomains),
    preload: check.boolean(`${prefix}preload`, options.preload, base.preload)
  }
  if (fields.preload && (fields.maxAge < 31536000 || !fields.includeSubDomains)) {
    throw new FST_FLEET_HSTS_PRELOAD_REQUIREMENTS(where, fields.maxAge, fields.includeSubDomains)
  }
  return fields
}

/** The `Strict-Transport-Security` value for these fields (RFC 6797 §6.1). */
export function headerValue (fields: Required<HstsHeaderOptions>): string {
  return `max-age=${fields.maxAge}${fields.includeSubDomains ? '; includeSubDomains' : ''}${fields.preload ? '; preload' : ''}`
}

/** Validates redirect options; `where` names the caller in errors. */
export function normalizeRedirect (input: unknown, where: string, extraKeys: readonly string[] = []): NormalizedRedirect {
  const options = check.object(where, input)
  check.known(options, ['allowedHosts', 'httpsPort', 'acmeChallenge', 'mode', ...extraKeys], `${where}.`)
  const mode = check.oneOf<Mode>(`${where}.mode`, options.mode, resolveMode(), ['development', 'production'])
  let hosts = options.allowedHosts
  if (hosts === undefined) {
    if (mode === 'production') throw new FST_FLEET_HSTS_ALLOWED_HOSTS_REQUIRED(where)
    hosts = LOOPBACK_HOSTS
  }
  if (!Array.isArray(hosts) || hosts.length === 0) check.invalid(`${where}.allowedHosts`, 'expected a non-empty list of host names')
  const allowed = compileAllowedHosts(hosts as string[])
  if (typeof allowed === 'string') check.invalid(`${where}.allowedHosts`, allowed)
  const httpsPort = check.number(`${where}.httpsPort`, options.httpsPort, REDIRECT_DEFAULTS.httpsPort, { min: 1, max: 65535, integer: true })
  const acme = options.acmeChallenge === undefined ? null : normalizeAcme(options.acmeChallenge, `${where}.acmeChallenge`)
  return { allowed: allowed as HostMatcher, httpsPort, acme }
}

/** Validates the plugin options at registration, never touching the caller's object. */
export function normalizeOptions (input: unknown): NormalizedHstsOptions {
  const options = check.object('options', input)
  check.known(options, ['maxAge', 'includeSubDomains', 'preload', 'skipLocalhost', 'redirect'])
  const fields = headerFields(options, DEFAULTS, 'options')
  const skipLocalhost = check.boolean('skipLocalhost', options.skipLocalhost, DEFAULTS.skipLocalhost)
  const redirectInput = options.redirect ?? DEFAULTS.redirect
  let redirect: NormalizedRedirect | null = null
  if (redirectInput === true) redirect = normalizeRedirect({}, 'redirect')
  else if (redirectInput !== false) redirect = normalizeRedirect(redirectInput, 'redirect')
  return { header: headerValue(fields), skipLocalhost, redirect, fields }
}
