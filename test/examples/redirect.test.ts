import { connect } from 'node:net'
import t, { test } from 'tap'
import { startRedirect } from '../../examples/fleet-app/redirect.js'
import { httpRequestPlain } from '../helpers/clients.js'

let origin: string
t.before(async () => {
  const redirect = await startRedirect({ port: 0, host: '127.0.0.1', httpsPort: 8443, allowedHosts: ['localhost', '127.0.0.1', '::1', 'example.com', '*.example.org'] })
  t.teardown(redirect.close)
  origin = `http://127.0.0.1:${redirect.port}`
})

/** Sends raw bytes and returns the raw response (for requests a normal client refuses to make). */
async function raw (request: string): Promise<string> {
  const { port } = new URL(origin)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { data += chunk })
    socket.once('end', () => resolve(data))
    socket.once('error', reject)
    socket.setTimeout(2000, () => { socket.destroy(); resolve(data) })
    socket.write(request)
  })
}

test('GET and HEAD get 301, other methods 308; path and query kept; port replaced', async (t) => {
  const get = await httpRequestPlain(origin, '/a/b?c=1&d=%20', { headers: { host: 'example.com:8080' } })
  t.equal(get.status, 301)
  t.equal(get.headers.location, 'https://example.com:8443/a/b?c=1&d=%20')
  t.equal((await httpRequestPlain(origin, '/', { method: 'HEAD', headers: { host: 'example.com' } })).status, 301)
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const res = await httpRequestPlain(origin, '/form', { method, headers: { host: 'example.com' } })
    t.equal(res.status, 308, method)
    t.equal(res.headers.location, 'https://example.com:8443/form')
  }
})

test('host names are lower-cased, the trailing dot removed, IPv6 literals kept in brackets', async (t) => {
  t.equal((await httpRequestPlain(origin, '/', { headers: { host: 'EXAMPLE.com.' } })).headers.location, 'https://example.com:8443/')
  t.equal((await httpRequestPlain(origin, '/x', { headers: { host: '[::1]:8080' } })).headers.location, 'https://[::1]:8443/x')
  t.equal((await httpRequestPlain(origin, '/', { headers: { host: 'api.example.org' } })).headers.location, 'https://api.example.org:8443/')
})

test('port 443 is left out of the target', async (t) => {
  const redirect = await startRedirect({ port: 0, host: '127.0.0.1', httpsPort: 443, allowedHosts: ['example.com'] })
  t.teardown(redirect.close)
  const res = await httpRequestPlain(`http://127.0.0.1:${redirect.port}`, '/p', { headers: { host: 'example.com' } })
  t.equal(res.headers.location, 'https://example.com/p')
})

test('hostile or unknown hosts get 400 and no Location', async (t) => {
  const hosts = [
    'evil.com', 'example.com.evil.com', 'example.com@evil.com', 'evil.com#example.com', 'example.org',
    'evil.com\\@example.com', 'example.com/evil.com', 'example.com:bad', '[::2]', 'EXAMPLE.COM..', '.example.org'
  ]
  for (const host of hosts) {
    const res = await httpRequestPlain(origin, '/', { headers: { host } })
    t.equal(res.status, 400, JSON.stringify(host))
    t.equal(res.headers.location, undefined, JSON.stringify(host))
  }
})

test('odd request targets never leave the allowed host', async (t) => {
  const scheme = await raw('GET //evil.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n')
  t.match(scheme, /^HTTP\/1\.1 301 /)
  t.match(scheme, /\r\nlocation: https:\/\/example\.com:8443\/\r\n/)
  const absolute = await raw('GET http://evil.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n')
  t.match(absolute, /\r\nlocation: https:\/\/example\.com:8443\/\r\n/)
})

test('a request without Host is answered at once with 400', async (t) => {
  const started = Date.now()
  const http10 = await raw('GET / HTTP/1.0\r\n\r\n')
  t.match(http10, /^HTTP\/1\.1 400 /)
  t.ok(Date.now() - started < 1000, 'within a second')
  t.match(await raw('GET / HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400 /, 'HTTP/1.1 without Host')
  t.match(await raw('GET / HTTP/1.0\r\nHost: \r\n\r\n'), /^HTTP\/1\.1 400 /, 'an empty Host')
})
