import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fastify from 'fastify'
import t, { test } from 'tap'
import { fleetHsts, httpsRedirectServer, type HttpsRedirectServerOptions } from '../../plugins/hsts/index.js'
import { listen } from '../helpers/app.js'

/** Sends raw bytes on a fresh socket and returns the raw response (what a normal client refuses to send). */
async function raw (port: number, request: string, host = '127.0.0.1'): Promise<{ text: string, ms: number }> {
  const started = Date.now()
  return await new Promise((resolve, reject) => {
    const socket = connect(port, host)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      text += chunk
      // one response is enough: stop once its body (Content-Length bytes; none for HEAD) is in
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) return
      const length = request.startsWith('HEAD ') ? 0 : Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? NaN)
      if (Buffer.byteLength(text.slice(end + 4)) >= length) socket.end()
    })
    socket.once('close', () => resolve({ text, ms: Date.now() - started }))
    socket.once('error', reject)
    socket.setTimeout(3000, () => socket.destroy())
    socket.write(request)
  })
}

const status = (text: string): number => Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1])
const location = (text: string): string | undefined => /\r\nlocation: ([^\r]*)\r\n/i.exec(text)?.[1]

async function server (tt: { teardown: (fn: () => unknown) => void }, opts: HttpsRedirectServerOptions = {}): Promise<number> {
  const handle = await httpsRedirectServer({ port: 0, host: '127.0.0.1', httpsPort: 8443, allowedHosts: ['example.com', '*.example.org', '127.0.0.1', '::1', 'localhost'], ...opts })
  tt.teardown(handle.close)
  return handle.port
}

/** The same checks against httpsRedirectServer and against fleetHsts({ redirect }) on a plain-HTTP Fastify. */
const flavours: Array<[string, (tt: { teardown: (fn: () => unknown) => void }, opts?: HttpsRedirectServerOptions) => Promise<number>]> = [
  ['httpsRedirectServer', server],
  ['fleetHsts redirect', async (tt, opts = {}) => {
    const app = fastify()
    const { port: _p, host: _h, onError: _e, ...redirect } = opts
    await app.register(fleetHsts, { redirect: { httpsPort: 8443, allowedHosts: ['example.com', '*.example.org', '127.0.0.1', '::1', 'localhost'], ...redirect } })
    app.all('/*', async () => 'the app itself must not answer plain HTTP')
    return (await listen(tt, app)).port
  }]
]

for (const [name, start] of flavours) {
  test(`${name}: 301 for GET and HEAD, 308 for other methods, path and query kept`, async (t) => {
    const port = await start(t)
    const get = (await raw(port, 'GET /a/b?c=1&d=%20#x HTTP/1.1\r\nHost: example.com:8080\r\n\r\n')).text
    t.equal(status(get), 301)
    t.equal(location(get), 'https://example.com:8443/a/b?c=1&d=%20#x')
    t.notMatch(get, /strict-transport-security/i, 'no STS over plain HTTP')
    const head = (await raw(port, 'HEAD /x HTTP/1.1\r\nHost: example.com\r\n\r\n')).text
    t.equal(status(head), 301)
    t.equal(location(head), 'https://example.com:8443/x')
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const res = (await raw(port, `${method} /form?q=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n`)).text
      t.equal(status(res), 308, method)
      t.equal(location(res), 'https://example.com:8443/form?q=1', method)
    }
  })

  test(`${name}: host lower-cased, trailing dot removed, IPv6 literal, wildcard, port 443 left out`, async (t) => {
    const port = await start(t)
    const cases: Array<[string, string]> = [
      ['EXAMPLE.com.', 'https://example.com:8443/'],
      ['Example.Com.:80', 'https://example.com:8443/'],
      ['[::1]:8080', 'https://[::1]:8443/'],
      ['[0:0:0:0:0:0:0:1]', 'https://[::1]:8443/'],
      ['127.0.0.1:8080', 'https://127.0.0.1:8443/'],
      ['api.example.org', 'https://api.example.org:8443/'],
      ['a.b.example.org', 'https://a.b.example.org:8443/']
    ]
    for (const [host, expected] of cases) {
      const res = (await raw(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).text
      t.equal(location(res), expected, host)
    }
    const standard = await start(t, { httpsPort: 443 })
    t.equal(location((await raw(standard, 'GET /p?q HTTP/1.1\r\nHost: example.com\r\n\r\n')).text), 'https://example.com/p?q')
  })

  test(`${name}: hostile or unknown hosts get 400 with no Location`, async (t) => {
    const port = await start(t)
    const hostile = [
      'evil.com', 'example.com.evil.com', 'example.com@evil.com', 'evil.com@example.com', 'example.com:80@evil.com',
      'user:pass@example.com', 'example.com/evil.com', 'example.com\\evil.com', 'example.com#@evil.com', 'example.com?@evil.com',
      'example.org', 'evilexample.org', 'example.org.evil.com', 'examp1e.com', 'example.com:0', 'example.com:99999',
      'example.com:80:81', '[::2]', '[::1', '::1', '[fe80::1%25eth0]', '%65xample.com', 'example.com%2fevil.com',
      'xn--exmple-cua.com', '0x7f.0.0.1', '2130706433', '127.1', 'localhost.evil.com', 'exa mple.com', '*.example.org',
      'example.com..', '.example.com', 'example.com, evil.com', 'https://example.com'
    ]
    for (const host of hostile) {
      const res = (await raw(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).text
      t.equal(status(res), 400, JSON.stringify(host))
      t.equal(location(res), undefined, JSON.stringify(host))
    }
    const twice = (await raw(port, 'GET / HTTP/1.1\r\nHost: example.com\r\nHost: evil.com\r\n\r\n')).text
    t.equal(status(twice), 400, 'two Host headers')
    t.equal(location(twice), undefined)
  })

  test(`${name}: odd request targets never yield a foreign Location`, async (t) => {
    const port = await start(t)
    const cases: Array<[string, string, number, string | undefined]> = [
      ['//evil.com/', 'example.com', 301, 'https://example.com:8443//evil.com/'],
      ['/\\evil.com', 'example.com', 301, 'https://example.com:8443/\\evil.com'],
      ['/%2F%2Fevil.com', 'example.com', 301, 'https://example.com:8443/%2F%2Fevil.com'],
      ['http://evil.com/x', 'example.com', 400, undefined],
      ['http://example.com@evil.com/x', 'example.com', 400, undefined],
      ['http://example.com/x?y', 'evil.com', 301, 'https://example.com:8443/x?y'],
      ['HTTP://API.EXAMPLE.ORG', 'evil.com', 301, 'https://api.example.org:8443/'],
      ['http://example.com?q=1', 'example.com', 301, 'https://example.com:8443/?q=1'],
      ['*', 'example.com', 301, 'https://example.com:8443/'],
      ['/caf\u00e9 x', 'example.com', 301, 'https://example.com:8443/caf%E9%20x']
    ]
    for (const [target, host, expectedStatus, expectedLocation] of cases) {
      const method = target === '*' ? 'OPTIONS' : 'GET'
      const res = (await raw(port, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).text
      if (res === '' || (status(res) === 400 && expectedStatus !== 400)) {
        // Node's parser itself may refuse a target (never a redirect elsewhere)
        t.notMatch(res, /location:/i, `${target} refused by the HTTP parser`)
        continue
      }
      t.equal(status(res), target === '*' ? 308 : expectedStatus, `${target} (Host ${host})`)
      t.equal(location(res), expectedLocation, `${target} (Host ${host})`)
    }
  })

  test(`${name}: a request without Host gets 400 at once`, async (t) => {
    const port = await start(t)
    const http10 = await raw(port, 'GET / HTTP/1.0\r\n\r\n')
    t.equal(status(http10.text), 400)
    t.ok(http10.ms < 1000, `answered in ${http10.ms} ms`)
    t.equal(location(http10.text), undefined)
    const empty = await raw(port, 'GET / HTTP/1.1\r\nHost:\r\n\r\n')
    t.equal(status(empty.text), 400)
    t.ok(empty.ms < 1000, `empty Host answered in ${empty.ms} ms`)
  })

  test(`${name}: ACME HTTP-01 challenges from a folder are answered, not redirected`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-acme-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'tok_EN-123'), 'tok_EN-123.thumbprint\n')
    await mkdir(join(dir, 'sub'))
    await writeFile(join(dir, 'secret'), 'not a token file? still a token name')
    const port = await start(t, { acmeChallenge: dir })
    const ok = (await raw(port, 'GET /.well-known/acme-challenge/tok_EN-123 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text
    t.equal(status(ok), 200)
    t.match(ok, /content-type: text\/plain; charset=utf-8/i)
    t.match(ok, /\r\n\r\ntok_EN-123\.thumbprint$/)
    t.equal(location(ok), undefined)
    const headAcme = (await raw(port, 'HEAD /.well-known/acme-challenge/tok_EN-123 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text
    t.equal(status(headAcme), 200)
    t.match(headAcme, /\r\n\r\n$/, 'HEAD has no body')
    const query = (await raw(port, 'GET /.well-known/acme-challenge/tok_EN-123?x=1 HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n')).text
    t.equal(status(query), 200, 'answered whatever the Host (the CA validates the name it asked for)')
    for (const path of ['missing', '..%2Fsecret', '../secret', 'a.b', '', '%2e%2e']) {
      const res = (await raw(port, `GET /.well-known/acme-challenge/${path} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).text
      t.equal(status(res), 404, path)
    }
    const post = (await raw(port, 'POST /.well-known/acme-challenge/tok_EN-123 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')).text
    t.equal(status(post), 405)
    const other = (await raw(port, 'GET /.well-known/other HTTP/1.1\r\nHost: example.com\r\n\r\n')).text
    t.equal(status(other), 301, 'the rest of .well-known is redirected')
  })

  test(`${name}: ACME challenges from a function, and a failing lookup is a 500`, async (t) => {
    const port = await start(t, {
      acmeChallenge: async (token) => {
        if (token === 'boom') throw new Error('store down')
        return token === 'known' ? 'known.key' : null
      }
    })
    const known = (await raw(port, 'GET /.well-known/acme-challenge/known HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text
    t.equal(status(known), 200)
    t.match(known, /\r\n\r\nknown\.key$/)
    t.equal(status((await raw(port, 'GET /.well-known/acme-challenge/unknown HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text), 404)
    t.equal(status((await raw(port, 'GET /.well-known/acme-challenge/boom HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text), 500)
  })
}

test('httpsRedirectServer: unreadable ACME folder entries are a 500 reported to onError', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-acme-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'adir'))
  const errors: unknown[] = []
  const port = await server(t, { acmeChallenge: dir, onError: (err) => errors.push(err) })
  const res = (await raw(port, 'GET /.well-known/acme-challenge/adir HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text
  t.equal(status(res), 500)
  t.match(errors, [{ code: 'EISDIR' }])
  const quiet = await server(t, { acmeChallenge: dir })
  t.equal(status((await raw(quiet, 'GET /.well-known/acme-challenge/adir HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).text), 500, 'without onError too')
})

test('httpsRedirectServer: IPv6 listener, defaults in development, close() ends keep-alive connections', async (t) => {
  const handle = await httpsRedirectServer({ port: 0, host: '::1' })
  const res = (await raw(handle.port, 'GET /x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n', '::1')).text
  t.equal(location(res), 'https://[::1]/x', 'loopback names allowed by default in development, httpsPort 443')
  t.equal(status((await raw(handle.port, 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n', '::1')).text), 400)
  // an idle keep-alive connection must not hold close() up
  const socket = connect(handle.port, '::1')
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
  await new Promise((resolve) => socket.once('data', resolve))
  const started = Date.now()
  await handle.close()
  t.ok(Date.now() - started < 500, 'closed without waiting for the idle connection')
  socket.destroy()
})

test('httpsRedirectServer: invalid options and a port in use', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    [null, 'FST_FLEET_HSTS_INVALID_OPTION', /invalid option httpsRedirectServer: expected an object/],
    [{ port: -1 }, 'FST_FLEET_HSTS_INVALID_OPTION', /httpsRedirectServer.port: expected a whole number from 0 to 65535, got -1/],
    [{ port: 1.5 }, 'FST_FLEET_HSTS_INVALID_OPTION', /httpsRedirectServer.port/],
    [{ host: '' }, 'FST_FLEET_HSTS_INVALID_OPTION', /httpsRedirectServer.host: expected a non-empty string, got ""/],
    [{ onError: 'log' }, 'FST_FLEET_HSTS_INVALID_OPTION', /httpsRedirectServer.onError: expected a function, got "log"/],
    [{ allowedHosts: ['evil com'] }, 'FST_FLEET_HSTS_INVALID_OPTION', /httpsRedirectServer.allowedHosts: "evil com" is not a host name/],
    [{ allowedhosts: ['x.com'] }, 'FST_FLEET_HSTS_INVALID_OPTION', /httpsRedirectServer.allowedhosts: unknown option/],
    [{ mode: 'production' }, 'FST_FLEET_HSTS_ALLOWED_HOSTS_REQUIRED', /httpsRedirectServer needs `allowedHosts` in production/]
  ]
  for (const [opts, code, message] of cases) {
    // @ts-expect-error wrong on purpose
    await t.rejects(httpsRedirectServer(opts), { code, message }, JSON.stringify(opts))
  }
  const first = await httpsRedirectServer({ port: 0, host: '127.0.0.1' })
  t.teardown(first.close)
  await t.rejects(httpsRedirectServer({ port: first.port, host: '127.0.0.1' }), { code: 'EADDRINUSE' })
})

t.test('fleetHsts redirect: requests that arrived over HTTPS are served, not redirected', async (t) => {
  const app = fastify({ trustProxy: true })
  await app.register(fleetHsts, { redirect: { allowedHosts: ['example.com'] } })
  app.get('/', async () => 'served')
  const res = await app.inject({ url: '/', headers: { host: 'example.com', 'x-forwarded-proto': 'https' } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'served')
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
  const plain = await app.inject({ url: '/?a=1', headers: { host: 'example.com', 'x-forwarded-proto': 'http' } })
  t.equal(plain.statusCode, 301)
  t.equal(plain.headers.location, 'https://example.com/?a=1')
  t.equal(plain.headers['strict-transport-security'], undefined)
  const redirectTrue = fastify()
  await redirectTrue.register(fleetHsts, { redirect: true })
  t.equal((await redirectTrue.inject({ url: '/', headers: { host: 'localhost:3000' } })).headers.location, 'https://localhost/')
})
