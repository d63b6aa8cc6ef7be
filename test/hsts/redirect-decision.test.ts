import { test } from 'tap'
import { compileAllowedHosts } from '../../plugins/hsts/allowed-hosts.js'
import { parseHost } from '../../plugins/internal/host.js'
import { redirectDecision } from '../../plugins/hsts/redirect.js'
import type { NormalizedRedirect } from '../../plugins/hsts/options.js'

const matcher = (hosts: string[]): NonNullable<Exclude<ReturnType<typeof compileAllowedHosts>, string>> => {
  const m = compileAllowedHosts(hosts)
  if (typeof m === 'string') throw new Error(m)
  return m
}

test('allowed hosts: exact names, IP addresses in any notation, wildcards below a domain only', async (t) => {
  const allowed = matcher(['Example.com.', '[::1]', '0:0:0:0:0:0:0:2', '10.0.0.1', '*.example.org'])
  const yes = ['example.com', 'EXAMPLE.COM.', '[::1]', '[::2]', '10.0.0.1:80', 'a.example.org', 'a.b.example.org']
  const no = ['www.example.com', 'example.org', 'aexample.org', 'example.org.evil.com', '[::3]', '10.0.0.2']
  for (const h of yes) t.equal(allowed(parseHost(h) as NonNullable<ReturnType<typeof parseHost>>), true, h)
  for (const h of no) t.equal(allowed(parseHost(h) as NonNullable<ReturnType<typeof parseHost>>), false, h)
  const exactOnly = matcher(['example.com'])
  t.equal(exactOnly(parseHost('sub.example.com') as NonNullable<ReturnType<typeof parseHost>>), false)
})

test('the Location is always valid header text', async (t) => {
  const opts: NormalizedRedirect = { allowed: matcher(['example.com']), httpsPort: 443, acme: null }
  t.same(redirectDecision('GET', 'example.com', '/caf\u00e9\u0001 x', opts), { status: 301, location: 'https://example.com/caf%E9%01%20x' })
  t.same(redirectDecision('GET', undefined, '/', opts), { status: 400, reason: 'missing Host header' })
  t.same(redirectDecision('GET', 'example.com', '/', opts, ['Host', 'example.com', 'HOST', 'evil.com']), { status: 400, reason: 'more than one Host header' })
  t.same(redirectDecision('GET', 'example.com', '/', opts, ['Host', 'example.com', 'Hosts', 'x', 'Accept', '*/*']), { status: 301, location: 'https://example.com/' })
})
