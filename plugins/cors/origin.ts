/** Parses and matches `Origin` values. */

// `\` ends the host as `/` does for URL: `https://a.com\x` has a path
const ORIGIN = /^(https?):\/\/([^/?#@\\\s]+)$/

/**
 * The serialized form of `value` when it is a valid origin as browsers send it
 * (`scheme://host[:port]`, no path, no userinfo, default port left out), or `null` for anything
 * else, `null` included. Never throws.
 */
export function canonicalOrigin (value: string): string | null {
  if (value.length > 2048) return null
  const match = ORIGIN.exec(value)
  if (match === null) return null
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  return url.origin
}

/** A compiled origin allowlist: exact origins, anchored patterns, and the `null` origin if listed. */
export interface OriginList {
  exact: Set<string>
  patterns: RegExp[]
}

/** Whether `origin` (as the browser sent it) is on the list; malformed origins never are. */
export function listAllows (list: OriginList, origin: string): boolean {
  if (list.exact.has(origin)) return true
  if (list.patterns.length === 0 || origin === 'null' || canonicalOrigin(origin) !== origin) return false
  for (const pattern of list.patterns) if (pattern.test(origin)) return true
  return false
}

/** Whether a RegExp source is anchored at both ends (a top-level `|` breaks the anchoring). */
export function isAnchored (pattern: RegExp): boolean {
  const source = pattern.source
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) return false
  // `^a|b$` anchors each alternative at one end only: demand a group around alternatives
  let depth = 0
  let escaped = false
  let inClass = false
  for (const c of source) {
    if (escaped) { escaped = false; continue }
    if (c === '\\') { escaped = true; continue }
    if (inClass) { if (c === ']') inClass = false; continue }
    if (c === '[') inClass = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === '|' && depth === 0) return false
  }
  return true
}
