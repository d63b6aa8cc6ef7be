import fastify from 'fastify'
import t, { test } from 'tap'
import { fleetHsts } from '../../plugins/hsts/index.js'
import { serverOptions } from '../../plugins/server/index.js'
import { listen } from '../helpers/app.js'
import { h1Request, h2Request, httpRequestPlain } from '../helpers/clients.js'
import { makePki, type TestPki } from '../helpers/tls.js'

let pki: TestPki
t.before(async () => { pki = await makePki({ hosts: ['localhost', 'app.example.com', '127.0.0.1', '::1'] }) })

async function tlsApp (tt: { teardown: (fn: () => unknown) => void }, opts = {}): Promise<string> {
  const app = fastify(await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: pki.intermediate.cert }))
  await app.register(fleetHsts, opts)
  app.get('/', async () => 'ok')
  app.get('/off', { config: { hsts: false } }, async () => 'ok')
  app.get('/short', { config: { hsts: { maxAge: 60, includeSubDomains: false, preload: false } } }, async () => 'ok')
  return (await listen(tt, app)).origin
}

for (const [protocol, send] of [['HTTP/2', h2Request], ['HTTP/1.1', h1Request]] as const) {
  test(`over ${protocol} on a real TLS server`, async (t) => {
    const origin = await tlsApp(t, { preload: true })
    const get = async (path: string, host = 'app.example.com'): Promise<Awaited<ReturnType<typeof send>>> =>
      await send(origin, path, { ca: pki.root.cert, servername: 'app.example.com', headers: protocol === 'HTTP/2' ? { ':authority': host } : { host } })
    const res = await get('/')
    t.equal(res.httpVersion, protocol === 'HTTP/2' ? '2.0' : '1.1')
    t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload')
    t.equal((await get('/off')).headers['strict-transport-security'], undefined)
    t.equal((await get('/short')).headers['strict-transport-security'], 'max-age=60')
    t.equal((await get('/missing')).headers['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload', '404 too')
    t.equal((await get('/', 'localhost')).headers['strict-transport-security'], undefined, 'not for localhost')
    t.equal((await get('/', '127.0.0.1:8443')).headers['strict-transport-security'], undefined, 'not for an IP literal')
  })
}

test('a raw header list holds exactly one STS header', async (t) => {
  const origin = await tlsApp(t)
  const { request } = await import('node:https')
  const rawHeaders = await new Promise<string[]>((resolve, reject) => {
    request(new URL('/', origin), { ca: pki.root.cert, servername: 'app.example.com', headers: { host: 'app.example.com' }, agent: false }, (res) => {
      res.resume()
      resolve(res.rawHeaders)
    }).once('error', reject).end()
  })
  t.equal(rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'strict-transport-security').length, 1)
})

test('never over plain HTTP, even on the same app', async (t) => {
  const app = fastify()
  await app.register(fleetHsts)
  app.get('/', async () => 'ok')
  const { origin } = await listen(t, app)
  const res = await httpRequestPlain(origin, '/', { headers: { host: 'app.example.com' } })
  t.equal(res.status, 200)
  t.equal(res.headers['strict-transport-security'], undefined)
})
