import { parseHost, urlHost } from '../internal/host.js'
import type { NormalizedRedirect } from './options.js'

/** What to answer a plain-HTTP request: a redirect to HTTPS, or 400 with the reason. */
export type RedirectDecision =
  | { status: 301 | 308, location: string }
  | { status: 400, reason: string }

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/i

/**
 * Percent-encodes every byte outside visible ASCII, so the Location header is always valid
 * (Node's parsers refuse such targets today; this holds whatever parser hands them over).
 */
function encodeTarget (path: string): string {
  return path.replace(/[^\x21-\x7e]/g, (c) => {
    // the target is handed over as latin1: one char per byte
    return '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')
  })
}

/** How many Host headers the request had (Node keeps only the first in `headers`). */
function hostCount (rawHeaders: string[]): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length === 4 && name.toLowerCase() === 'host') count++
  }
  return count
}

/**
 * Decides the redirect of a plain-HTTP request: 301 for GET/HEAD, 308 for other methods (which
 * keeps the method and body), to `https://` + the requested host (lower-cased, without trailing
 * dot, port replaced by `httpsPort` and left out when 443) + path and query. The host comes from
 * the absolute-form target when there is one (RFC 9112 §3.2.2), else from `Host`; it must be
 * well-formed, allowed and given once (RFC 9112 §3.2), otherwise 400. The Location is always absolute, so no request target
 * (`//evil.com/`, `/\evil.com`) can turn it into a redirect to another host.
 */
export function redirectDecision (method: string, hostHeader: string | undefined, target: string, opts: NormalizedRedirect, rawHeaders: string[] = []): RedirectDecision {
  if (hostCount(rawHeaders) > 1) return { status: 400, reason: 'more than one Host header' }
  let authority = hostHeader
  let path = target
  const absolute = ABSOLUTE_FORM.exec(target)
  if (absolute !== null) {
    authority = absolute[1]
    path = absolute[2] as string
  }
  if (authority === undefined || authority === '') return { status: 400, reason: 'missing Host header' }
  const host = parseHost(authority)
  if (host === null) return { status: 400, reason: 'malformed Host header' }
  if (!opts.allowed(host)) return { status: 400, reason: 'host not allowed' }
  if (path.charCodeAt(0) !== 47 /* / */) path = path.charCodeAt(0) === 63 /* ? */ ? '/' + path : '/'
  const port = opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`
  return {
    status: method === 'GET' || method === 'HEAD' ? 301 : 308,
    location: `https://${urlHost(host)}${port}${encodeTarget(path)}`
  }
}
