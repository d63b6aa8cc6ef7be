import fastify from 'fastify'
import t, { test } from 'tap'
import { fleetCors } from '../../plugins/cors/index.js'
import { serverOptions } from '../../plugins/server/index.js'
import { listen } from '../helpers/app.js'
import { h1Request, h2Request } from '../helpers/clients.js'
import { makePki, type TestPki } from '../helpers/tls.js'

const APP = 'https://app.example.com'
let pki: TestPki
t.before(async () => { pki = await makePki() })

for (const [protocol, send] of [['HTTP/2', h2Request], ['HTTP/1.1', h1Request]] as const) {
  test(`preflight and actual request over ${protocol} on a real TLS server`, async (t) => {
    let ran = 0
    const app = fastify(await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: pki.intermediate.cert }))
    await app.register(fleetCors, { origin: async (origin) => origin === APP, credentials: true, allowedHeaders: ['content-type'] })
    app.put('/items', async () => { ran++; return { ok: true } })
    app.delete('/items', { config: { cors: false } }, async () => { ran++; return 'gone' })
    const { origin } = await listen(t, app)
    const opts = { ca: pki.root.cert, servername: 'localhost' }

    const pre = await send(origin, '/items', { ...opts, method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' } })
    t.equal(pre.httpVersion, protocol === 'HTTP/2' ? '2.0' : '1.1')
    t.equal(pre.status, 204)
    t.equal(pre.headers['access-control-allow-origin'], APP)
    t.equal(pre.headers['access-control-allow-credentials'], 'true')
    t.equal(pre.headers['access-control-allow-headers'], 'content-type')
    t.equal(pre.headers.vary, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers')
    if (protocol === 'HTTP/2') t.equal(pre.headers.connection, undefined, 'no connection-specific header on HTTP/2')

    const refused = await send(origin, '/items', { ...opts, method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'DELETE' } })
    t.equal(refused.status, 403)
    t.equal(refused.headers['access-control-allow-origin'], undefined)

    const put = await send(origin, '/items', { ...opts, method: 'PUT', headers: { origin: APP, 'content-type': 'application/json' }, body: '{}' })
    t.equal(put.status, 200)
    t.equal(put.headers['access-control-allow-origin'], APP)
    t.equal(put.headers.vary, 'Origin')
    t.equal(ran, 1)
    t.same(app.corsCache.stats(), { hits: 1, misses: 1, size: 1, preflight: { hits: 0, misses: 1, size: 1 } })
  })
}
