import fastify from 'fastify'
import fc from 'fast-check'
import { test } from 'tap'
import { compileAllowedHosts, type HostMatcher } from '../../plugins/hsts/allowed-hosts.js'
import { fleetHsts } from '../../plugins/hsts/index.js'
import type { NormalizedRedirect } from '../../plugins/hsts/options.js'
import { redirectDecision, type RedirectDecision } from '../../plugins/hsts/redirect.js'
import { parseHost, urlHost } from '../../plugins/internal/host.js'
import { anyText, headerText, holds, hostVariant } from '../helpers/property.js'

const ALLOWED = ['example.com', '*.example.org', '127.0.0.1', '::1', 'localhost']
const allowed = compileAllowedHosts(ALLOWED) as HostMatcher
/** Hosts a redirect must never go to: look-alikes, the apex of a wildcard, suffix tricks. */
const FOREIGN = ['evil.com', 'example.com.evil.com', 'evilexample.com', 'example.org', 'example.org.evil.com', '127.0.0.2', '[::2]', 'localhost.evil.com']

const host = fc.oneof(
  ...['example.com', 'a.example.org', 'a.b.example.org', '127.0.0.1', '[::1]', '[0:0:0:0:0:0:0:1]', 'localhost'].map((h) => hostVariant(h)),
  ...FOREIGN.map((h) => hostVariant(h, 'example.com')),
  anyText(300),
  fc.domain(), fc.ipV4(), fc.ipV6().map((a) => `[${a}]`)
)
const target = fc.oneof(
  fc.webPath(), anyText(60).map((p) => '/' + p), anyText(60),
  fc.constantFrom('//evil.com/', '/\\evil.com', '///evil.com', '/..//evil.com', '*', '?x', '#x', 'http://evil.com', '/%2F%2Fevil.com'),
  fc.tuple(fc.constantFrom('http://', 'HTTPS://', 'http:/', 'https:///'), host, fc.webPath()).map(([s, h, p]) => s + h + p)
)
const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'get'), fc.string({ maxLength: 8 }))
const rawHeaders = fc.array(fc.tuple(fc.constantFrom('Host', 'host', 'HOST', 'Hosts', 'X-Host', 'Accept'), anyText(20)), { maxLength: 3 }).map((pairs) => pairs.flat())

/** The checks every answer passes: a 3xx to an allowed host over HTTPS on the configured port, or 400. */
function safe (decision: RedirectDecision, m: string, httpsPort: number): boolean {
  if (decision.status === 400) return typeof decision.reason === 'string' && decision.reason.length > 0
  if (decision.status !== (m === 'GET' || m === 'HEAD' ? 301 : 308)) return false
  const { location } = decision
  // visible ASCII only: no header splitting, nothing a client decodes differently
  if (!/^https:\/\/[\x21-\x7e]+$/.test(location)) return false
  let url: URL
  try {
    url = new URL(location)
  } catch {
    // an invalid IDN label (`xn--zz`) an allowed wildcard let through: no browser follows it
    return /^https:\/\/(?:[^/]*\.)?xn--/.test(location)
  }
  const parsed = parseHost(url.host)
  return url.protocol === 'https:' && url.username === '' && url.password === '' &&
    url.port === (httpsPort === 443 ? '' : String(httpsPort)) && parsed !== null && allowed(parsed)
}

test('redirectDecision: whatever the request, a 3xx to an allowed host or a 400', async (t) => {
  const counts = { redirect: 0, refused: 0 }
  await holds(t, 'safe answer', fc.property(method, fc.option(host, { nil: undefined }), target, rawHeaders, fc.constantFrom(443, 8443),
    (m, hostHeader, url, raw, httpsPort) => {
      const opts: NormalizedRedirect = { allowed, httpsPort, acme: null }
      const decision = redirectDecision(m, hostHeader, url, opts, raw)
      counts[decision.status === 400 ? 'refused' : 'redirect']++
      return safe(decision, m, httpsPort)
    }), 5000, [
    ['GET', 'example.com', 'http://evil.com@example.com/', [], 443],
    ['GET', 'a.example.org', 'https://xn--zz.example.org/', [], 443],
    ['GET', 'example.com', 'http://example.com\n.evil.com/', [], 443]
  ])
  t.ok(counts.redirect > 250 && counts.refused > 250, `both answers are exercised (${counts.redirect} redirects, ${counts.refused} refusals)`)
})

test('redirectDecision: the Location host is the requested host, canonical; the target cannot change it', async (t) => {
  const allowedHost = fc.constantFrom('example.com', 'EXAMPLE.com.', 'x.Example.org', '127.0.0.1', '[::1]', '[0::1]', 'LocalHost')
  await holds(t, 'host kept', fc.property(allowedHost, fc.option(fc.integer({ min: 1, max: 65535 })), fc.oneof(fc.webPath(), anyText(40).map((p) => '/' + p)),
    (name, port, path) => {
      const decision = redirectDecision('GET', name + (port === null ? '' : `:${port}`), path, { allowed, httpsPort: 443, acme: null })
      const expected = urlHost(parseHost(name) as NonNullable<ReturnType<typeof parseHost>>)
      return decision.status === 301 && decision.location.startsWith(`https://${expected}/`) && new URL(decision.location).host === expected
    }), 2000, [['example.com', null, '//evil.com/'], ['example.com', null, '/\\evil.com']])
})

test('redirectDecision: a request past Node\'s header limit (16 KB) is answered at once', async (t) => {
  const opts: NormalizedRedirect = { allowed, httpsPort: 443, acme: null }
  const started = performance.now()
  const answers = [
    redirectDecision('GET', 'example.com', '/' + 'a\u00ff/'.repeat(1 << 14), opts).status,
    redirectDecision('GET', 'a.'.repeat(1 << 15) + 'example.org', '/', opts).status,
    redirectDecision('GET', 'example.com', 'http://' + 'a.'.repeat(1 << 15) + 'example.org/', opts).status,
    redirectDecision('GET', 'example.com', '/', opts, Array(1 << 12).fill('Host')).status
  ]
  t.same(answers, [301, 400, 400, 400])
  t.ok(performance.now() - started < 1000, `well under a second (${Math.round(performance.now() - started)} ms)`)
})

test('fleetHsts redirect through a Fastify app: 301/308 to an allowed host, or 400; the app never answers', async (t) => {
  const app = fastify()
  await app.register(fleetHsts, { redirect: { httpsPort: 8443, allowedHosts: ALLOWED } })
  app.all('/*', async () => 'the app itself must not answer plain HTTP')
  t.teardown(() => app.close())
  await app.ready()
  const wireHost = fc.oneof(
    ...['example.com', 'a.example.org', '127.0.0.1', '[::1]', 'localhost'].map((h) => hostVariant(h).filter((v) => /^[\x20-\x7e\x80-\xff]*$/.test(v))),
    ...FOREIGN.map((h) => hostVariant(h, 'example.com').filter((v) => /^[\x20-\x7e\x80-\xff]*$/.test(v))),
    headerText(40)
  )
  await holds(t, 'safe answer over HTTP', fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE'), wireHost, fc.webPath(), async (m, hostHeader, path) => {
    const res = await app.inject({ method: m as 'GET', url: path === '' ? '/' : path, headers: { host: hostHeader } })
    if (res.statusCode === 400) return m === 'HEAD' || res.body.startsWith('Bad Request: ')
    const location = res.headers.location
    return typeof location === 'string' && safe({ status: res.statusCode as 301, location }, m, 8443)
  }), 300, [['GET', 'example.com:80@evil.com', '/'], ['GET', 'EXAMPLE.COM.', '//evil.com']])
})
