import { parseHost, type ParsedHost } from '../internal/host.js'

/** Tells whether a parsed host may be redirected to. */
export type HostMatcher = (host: ParsedHost) => boolean

/** Loopback names: the development default of `allowedHosts`. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'] as const

/**
 * Compiles `allowedHosts` (exact names or IP addresses, and `*.example.com` wildcards that match
 * any name below example.com but not example.com itself) into a matcher. Returns the reason as a
 * string for an entry that is not a host name, so the caller can raise its own coded error.
 */
export function compileAllowedHosts (entries: readonly string[]): HostMatcher | string {
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const entry of entries) {
    if (typeof entry !== 'string') return `expected host names, got ${JSON.stringify(entry)}`
    const wildcard = entry.startsWith('*.')
    const bare = wildcard ? entry.slice(2) : entry.startsWith('[') ? entry : entry.includes(':') ? `[${entry}]` : entry
    const parsed = parseHost(bare)
    if (parsed === null || parsed.port !== null) return `"${entry}" is not a host name, an IP address or a *.example.com wildcard`
    if (wildcard && parsed.ip !== 0) return `"${entry}": a wildcard needs a domain name`
    if (wildcard) suffixes.push(`.${parsed.hostname}`)
    else exact.add(parsed.hostname)
  }
  if (suffixes.length === 0) return (host) => exact.has(host.hostname)
  return (host) => exact.has(host.hostname) ||
    (host.ip === 0 && suffixes.some((suffix) => host.hostname.endsWith(suffix)))
}
