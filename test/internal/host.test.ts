import { test } from 'tap'
import { canonicalIPv6, isLocalOrIp, parseHost, urlHost } from '../../plugins/internal/host.js'

test('well-formed hosts', async (t) => {
  const cases: Array<[string, { hostname: string, ip: 0 | 4 | 6, port: number | null }]> = [
    ['example.com', { hostname: 'example.com', ip: 0, port: null }],
    ['Example.COM', { hostname: 'example.com', ip: 0, port: null }],
    ['example.com.', { hostname: 'example.com', ip: 0, port: null }],
    ['example.com:8080', { hostname: 'example.com', ip: 0, port: 8080 }],
    ['EXAMPLE.com.:443', { hostname: 'example.com', ip: 0, port: 443 }],
    ['localhost', { hostname: 'localhost', ip: 0, port: null }],
    ['a-b.c_d.example', { hostname: 'a-b.c_d.example', ip: 0, port: null }],
    ['xn--bcher-kva.example', { hostname: 'xn--bcher-kva.example', ip: 0, port: null }],
    ['127.0.0.1', { hostname: '127.0.0.1', ip: 4, port: null }],
    ['127.0.0.1:65535', { hostname: '127.0.0.1', ip: 4, port: 65535 }],
    ['[::1]', { hostname: '::1', ip: 6, port: null }],
    ['[::1]:8080', { hostname: '::1', ip: 6, port: 8080 }],
    ['[0:0:0:0:0:0:0:1]', { hostname: '::1', ip: 6, port: null }],
    ['[2001:DB8::A]:1', { hostname: '2001:db8::a', ip: 6, port: 1 }],
    ['[::ffff:127.0.0.1]', { hostname: '::ffff:7f00:1', ip: 6, port: null }]
  ]
  for (const [value, expected] of cases) t.same(parseHost(value), expected, value)
})

test('hostile and malformed hosts are refused', async (t) => {
  const hostile = [
    undefined, '', ' ', 'example.com@evil.com', 'good.com@evil.com:80', 'user:pass@example.com', 'example.com/evil',
    'example.com\\evil.com', 'example.com?x', 'example.com#x', 'exa mple.com', 'example.com ', ' example.com',
    'example.com:', 'example.com:0', 'example.com:65536', 'example.com:80:80', 'example.com:+80', 'example.com:8o',
    'example..com', '.example.com', 'example.com..', '-example.com', 'example-.com', 'a'.repeat(64) + '.com',
    ('a'.repeat(60) + '.').repeat(5) + 'com', '::1', '[::1', '::1]', '[::1]x', '[::1]:', '[::1]:0', '[fe80::1%eth0]',
    '[example.com]', '[127.0.0.1]', '[::1]:80:80', 'ex\u00e4mple.com', 'example.com\r\nx: y', 'example.com\u0000',
    'https://example.com', '*.example.com', '%65xample.com', 'x'.repeat(300), ('a'.repeat(62) + '.').repeat(4) + 'abc'
  ]
  for (const value of hostile) t.equal(parseHost(value), null, JSON.stringify(value))
})

test('local names and IP literals', async (t) => {
  for (const value of ['localhost', 'LOCALHOST.', 'app.localhost', '127.0.0.1', '10.0.0.1', '[::1]', '[2001:db8::1]']) {
    t.equal(isLocalOrIp(parseHost(value) as NonNullable<ReturnType<typeof parseHost>>), true, value)
  }
  for (const value of ['example.com', 'localhost.example.com', 'notlocalhost', 'localhostx']) {
    t.equal(isLocalOrIp(parseHost(value) as NonNullable<ReturnType<typeof parseHost>>), false, value)
  }
})

test('URL form and canonical IPv6', async (t) => {
  t.equal(urlHost(parseHost('[::1]:80') as NonNullable<ReturnType<typeof parseHost>>), '[::1]')
  t.equal(urlHost(parseHost('Example.com') as NonNullable<ReturnType<typeof parseHost>>), 'example.com')
  t.equal(canonicalIPv6('0:0:0:0:0:0:0:1'), '::1')
  t.equal(canonicalIPv6('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1')
})
