import { isIPv4, isIPv6 } from 'node:net'
import fc from 'fast-check'
import { test } from 'tap'
import { parseHost, urlHost, type ParsedHost } from '../../plugins/internal/host.js'
import { anyText, holds, hostVariant } from '../helpers/property.js'

const NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/
/** WHATWG URL reads a name whose last label is a number (`1`, `0x7f`) as an IPv4 address. */
const ENDS_IN_NUMBER = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/

/** What a parse promises, whatever the input. */
function wellFormed (p: ParsedHost): boolean {
  const { hostname, ip, port } = p
  const kind = ip === 4 ? isIPv4(hostname) : ip === 6 ? isIPv6(hostname) && !hostname.includes('%') : NAME.test(hostname) && !isIPv4(hostname)
  return kind && hostname === hostname.toLowerCase() && hostname.length <= 253 &&
    (port === null || (Number.isInteger(port) && port >= 1 && port <= 65535))
}

test('parseHost: any string gives null or a well-formed host, never a throw', async (t) => {
  await holds(t, 'null or a well-formed host, without userinfo, path or spaces', fc.property(fc.oneof(anyText(300), hostVariant('example.com'), hostVariant('[::1]'), hostVariant('127.0.0.1')), (value) => {
    const p = parseHost(value)
    if (p === null) return true
    // nothing a URL would read as userinfo, path, query, fragment or another header survives a parse
    return wellFormed(p) && !/[@/\\?#%\s\0]/.test(value)
  }), 3000, [['[::ffff:1.2.3.4]'], ['0x7f.0.0.1'], ['a.'], ['[::1]:65535']])
})

test('parseHost: the host a browser would go to is the one parsed (WHATWG URL agrees)', async (t) => {
  await holds(t, 'WHATWG URL reads the same host', fc.property(fc.oneof(anyText(40), fc.domain(), fc.ipV4(), fc.ipV6().map((a) => `[${a}]`), fc.ipV4Extended()), (value) => {
    const p = parseHost(value)
    if (p === null || (p.ip === 0 && ENDS_IN_NUMBER.test(p.hostname))) return true
    let url: URL
    try {
      url = new URL(`https://${urlHost(p)}/`)
    } catch {
      // an invalid IDN label (`xn--zz`): no browser follows such a Location
      return p.ip === 0 && /(?:^|\.)xn--/.test(p.hostname)
    }
    return url.hostname === urlHost(p)
  }), 2000, [['xn--zz.example.com'], ['a_b.example']])
})

test('parseHost: valid hosts round-trip, in any case, with a trailing dot and a port', async (t) => {
  const host = fc.oneof(
    fc.domain().map((d) => ({ text: d, expected: { hostname: d, ip: 0 as const } })),
    fc.ipV4().map((a) => ({ text: a, expected: { hostname: a, ip: 4 as const } })),
    fc.ipV6().map((a) => ({ text: `[${a}]`, expected: { hostname: new URL(`http://[${a}]/`).hostname.slice(1, -1), ip: 6 as const } }))
  )
  await holds(t, 'round trip', fc.property(host, fc.option(fc.integer({ min: 1, max: 65535 })), fc.boolean(), fc.boolean(), ({ text, expected }, port, upper, dot) => {
    let value = upper ? text.toUpperCase() : text
    if (dot && expected.ip === 0) value += '.'
    if (port !== null) value += `:${port}`
    const p = parseHost(value)
    if (p === null || p.hostname !== expected.hostname || p.ip !== expected.ip || p.port !== port) return false
    // the canonical form parses to the same host
    const again = parseHost(urlHost(p) + (port === null ? '' : `:${port}`))
    return again !== null && again.hostname === p.hostname && again.ip === p.ip && again.port === p.port
  }), 2000)
})

test('parseHost: out-of-range and malformed ports are refused', async (t) => {
  await holds(t, 'numeric ports out of range', fc.property(fc.domain(), fc.oneof(fc.integer({ min: 65536 }), fc.constant(0), fc.integer({ max: -1 })).map(String), (name, port) =>
    parseHost(`${name}:${port}`) === null
  ), 500, [['a.com', '00000'], ['a.com', '065536']])
  await holds(t, 'ports that are not 1-5 digits', fc.property(fc.domain(), fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/^[0-9]{1,5}$/.test(s)), (name, port) =>
    parseHost(`${name}:${port}`) === null
  ), 500, [['a.com', '+80'], ['a.com', ' 80'], ['a.com', '٨٠']])
})
