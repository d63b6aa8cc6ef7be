import fastify from 'fastify'
import fc from 'fast-check'
import { test } from 'tap'
import { fleetCors } from '../../plugins/cors/index.js'
import { canonicalOrigin, listAllows, type OriginList } from '../../plugins/cors/origin.js'
import { anyText, corsPolicy, holds, hostVariant } from '../helpers/property.js'

const EXACT = ['https://app.example.com', 'http://localhost:3000', 'https://[::1]:8443']
const PATTERN = /^https:\/\/[a-z0-9-]+\.example\.org$/
const list: OriginList = { exact: new Set(EXACT), patterns: [PATTERN] }
const FOREIGN = ['evil.com', 'app.example.com.evil.com', 'evilapp.example.com', 'example.org', 'a.example.org.evil.com', 'app-example.com']

/** Variants of an origin on `host`: scheme spellings, host variants, ports, paths and other suffixes. */
const originOn = (host: string): fc.Arbitrary<string> => fc.oneof(
  fc.constant(`https://${host}`),
  fc.tuple(
    fc.constantFrom('https://', 'http://', 'HTTPS://', 'Https://', 'https:/', 'https:///', 'ws://', 'https:\\\\', ' https://', '', 'null'),
    hostVariant(host, 'evil.com'),
    fc.constantFrom('', '', '/', ':443', ':80', ':3000', ':8443', '/path', '?q', '#f', '.', ' ', '\r\n', '%00')
  ).map(([scheme, h, suffix]) => scheme + h + suffix)
)
const anyOrigin = fc.oneof(
  ...['app.example.com', 'localhost:3000', '[::1]:8443', 'a.example.org', 'xn--pp-8kc.example.org'].map(originOn),
  ...FOREIGN.map(originOn),
  fc.webUrl().map((u) => new URL(u).origin),
  fc.webUrl(), anyText(60), fc.constant('null')
)

/** What the list grants, by its documented contract: an exact listed origin, or a serialized origin a pattern matches. */
const granted = (o: string): boolean => EXACT.includes(o) || (canonicalOrigin(o) === o && PATTERN.test(o))

test('regression: a backslash ends the host for URL, so an origin with one has a path and is refused', async (t) => {
  // found by the canonicalOrigin property below (seed 20261206): canonicalOrigin gave https://evilapp.example.com for it
  t.equal(canonicalOrigin('https://evilapp.example.com\\evil.com'), null)
  t.equal(canonicalOrigin('https://app.example.com\\'), null)
  t.equal(canonicalOrigin('http://a.example.com\\@evil.com'), null)
  t.equal(canonicalOrigin('https://app.example.com'), 'https://app.example.com')
})

test('canonicalOrigin: any string gives null or a serialized origin, never a throw', async (t) => {
  await holds(t, 'serialized origin', fc.property(anyOrigin, (value) => {
    const c = canonicalOrigin(value)
    if (c === null) return true
    const url = new URL(value)
    return c === url.origin && canonicalOrigin(c) === c && /^https?:\/\/[\x21-\x7e]+$/.test(c) && url.username === '' && url.password === '' &&
      !c.includes('@') && url.pathname === '/' && url.search === '' && url.hash === ''
  }), 3000, [['https://a@b'], ['https://evilapp.example.com\\evil.com'], ['https://exa%6Dple.com'], ['https://EXAMPLE.com:443'], ['https://example.com.']])
})

test('listAllows: an origin is granted only as listed or as a serialized origin a pattern matches', async (t) => {
  const counts = { granted: 0, refused: 0 }
  await holds(t, 'no foreign grant', fc.property(anyOrigin, (o) => {
    const allows = listAllows(list, o)
    counts[allows ? 'granted' : 'refused']++
    if (allows !== granted(o)) return false
    if (!allows) return true
    // what the browser compares: the granted origin's host is one of the list's
    const { hostname, port } = new URL(o)
    return EXACT.includes(o) || (hostname.endsWith('.example.org') && port === '')
  }), 5000, [['https://app.example.com.'], ['https://APP.example.com'], ['https://app.example.com:443'], ['https://a.example.org:443'], ['https://\u0430pp.example.com']])
  t.ok(counts.granted > 200 && counts.refused > 200, `both outcomes exercised (${counts.granted} granted, ${counts.refused} refused)`)
})

test('listAllows: a variant of an allowed origin (case, default port, trailing dot, userinfo, unicode) is refused unless it is the origin itself', async (t) => {
  await holds(t, 'exact match only', fc.property(fc.constantFrom(...EXACT), fc.mixedCase(fc.constantFrom('https://', 'http://')), (origin, scheme) => {
    const host = origin.replace(/^https?:\/\//, '')
    const variants = [origin.toUpperCase(), origin + '.', origin + '/', origin + ':443', scheme + 'a@' + host, scheme + host, origin.replace('a', '\u0430')]
    return variants.every((v) => listAllows(list, v) === (v === origin))
  }), 300)
})

test('policy decisions: reflect and origin functions only ever see or echo serialized origins', async (t) => {
  const reflect = corsPolicy({ origin: true })
  const seen: string[] = []
  const viaFunction = corsPolicy({ origin: (o) => { seen.push(o); return o.endsWith('.example.com') }, credentials: true })
  await holds(t, 'serialized only', fc.property(anyOrigin, (o) => {
    seen.length = 0
    const reflected = reflect.decide(o, {} as never)
    const decided = viaFunction.decide(o, {} as never)
    const wellFormed = o === 'null' || canonicalOrigin(o) === o
    if (reflected instanceof Promise || decided instanceof Promise) return false
    return (reflected.allow ? reflected.value === o && wellFormed : !wellFormed) &&
      seen.every((s) => s === o && wellFormed) &&
      (!decided.allow || (decided.value === o && wellFormed && o.endsWith('.example.com')))
  }), 3000)
})

test('fleetCors through a Fastify app: Access-Control-Allow-Origin only for a granted origin, and exactly it', async (t) => {
  const app = fastify()
  await app.register(fleetCors, { origin: [...EXACT, PATTERN], credentials: true })
  app.get('/items', async () => 'items')
  t.teardown(() => app.close())
  await app.ready()
  const wire = anyOrigin.filter((o) => /^[\x20-\x7e\x80-\xff]*$/.test(o) && o.trim() === o)
  await holds(t, 'granted origins only', fc.asyncProperty(wire, async (origin) => {
    const res = await app.inject({ url: '/items', headers: { origin } })
    const allowOrigin = res.headers['access-control-allow-origin']
    return res.statusCode === 200 && res.headers.vary === 'Origin' && (granted(origin)
      ? allowOrigin === origin && res.headers['access-control-allow-credentials'] === 'true'
      : allowOrigin === undefined && res.headers['access-control-allow-credentials'] === undefined)
  }), 300, [['https://app.example.com'], ['https://app.example.com.evil.com'], ['https://APP.example.com']])
})
