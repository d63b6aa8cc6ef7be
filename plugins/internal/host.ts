import { isIPv4, isIPv6 } from 'node:net'

/** A parsed `Host` (or `:authority`) value. */
export interface ParsedHost {
  /** Lower-case name without a trailing dot, or the bare IP address (IPv6 without brackets). */
  hostname: string
  /** `4` or `6` for an IP literal, `0` for a name. */
  ip: 0 | 4 | 6
  /** The port, or `null` when none was given. */
  port: number | null
}

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?'
const NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`)
const PORT = /^[0-9]{1,5}$/
const IPV6_CHARS = /^[0-9a-fA-F:.]+$/

/**
 * Parses a Host header strictly as `host[:port]` (RFC 9110 §7.2): a DNS name, an IPv4 address or
 * a bracketed IPv6 address, nothing else. Userinfo (`a@b`), paths, spaces, zone ids, empty or
 * out-of-range ports and over-long names give `null`, so a hostile value can never be mistaken
 * for an allowed host.
 */
export function parseHost (value: string | undefined): ParsedHost | null {
  if (value === undefined || value.length === 0 || value.length > 262) return null
  let host: string
  let port: string | undefined
  if (value.charCodeAt(0) === 91 /* [ */) {
    const end = value.indexOf(']')
    if (end === -1) return null
    host = value.slice(1, end)
    const rest = value.slice(end + 1)
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 58 /* : */) return null
      port = rest.slice(1)
    }
    // hex digits, colons and dots only: isIPv6() also accepts zone ids (`fe80::1%eth0`)
    if (!IPV6_CHARS.test(host) || !isIPv6(host)) return null
    host = canonicalIPv6(host)
  } else {
    const colon = value.indexOf(':')
    host = colon === -1 ? value : value.slice(0, colon)
    if (colon !== -1) port = value.slice(colon + 1)
    host = host.toLowerCase()
    if (!NAME.test(host)) return null
    if (host.endsWith('.')) host = host.slice(0, -1)
    if (host.length > 253) return null
  }
  let portNumber: number | null = null
  if (port !== undefined) {
    if (!PORT.test(port)) return null
    portNumber = Number(port)
    if (portNumber < 1 || portNumber > 65535) return null
  }
  const ip = isIPv4(host) ? 4 : host.includes(':') ? 6 : 0
  return { hostname: host, ip, port: portNumber }
}

/** The canonical text of an IPv6 address (lower case, zeros compressed), as WHATWG URL prints it. */
export function canonicalIPv6 (address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1)
}

/** `localhost`, `*.localhost` (RFC 6761) or an IP literal. */
export function isLocalOrIp (host: ParsedHost): boolean {
  return host.ip !== 0 || host.hostname === 'localhost' || host.hostname.endsWith('.localhost')
}

/** The host as it goes into a URL: IPv6 addresses in brackets. */
export function urlHost (host: ParsedHost): string {
  return host.ip === 6 ? `[${host.hostname}]` : host.hostname
}
