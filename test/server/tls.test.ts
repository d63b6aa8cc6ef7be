import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { X509Certificate } from 'node:crypto'
import fastify from 'fastify'
import t, { test } from 'tap'
import { serverOptions } from '../../plugins/server/index.js'
import { listen } from '../helpers/app.js'
import { h1Request, h2Request, peerChain } from '../helpers/clients.js'
import { makePki, type TestPki } from '../helpers/tls.js'

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256

let pki: TestPki
t.before(async () => { pki = await makePki() })

async function helloApp (opts: Awaited<ReturnType<typeof serverOptions>>): Promise<ReturnType<typeof fastify>> {
  const app = fastify(opts)
  app.get('/', async (request) => ({ hello: 'world', httpVersion: request.raw.httpVersion }))
  return app as unknown as ReturnType<typeof fastify>
}

test('HTTP/2 through ALPN and HTTP/1.1 on the same TLS port, verified against the root CA', async (t) => {
  const opts = await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: pki.intermediate.cert })
  t.equal(opts.http2, true)
  t.equal(opts.https.allowHTTP1, true)
  t.equal(opts.https.minVersion, 'TLSv1.2')
  const app = fastify(opts)
  app.get('/', async (request) => ({ hello: 'world', httpVersion: request.raw.httpVersion }))
  const { port } = await listen(t, app)
  // the certificate names localhost, 127.0.0.1 and ::1: verify against each
  const origin = `https://localhost:${port}`

  const h2 = await h2Request(origin, '/', { ca: pki.root.cert })
  t.equal(h2.status, 200)
  t.equal(h2.alpn, 'h2')
  t.same(JSON.parse(h2.body), { hello: 'world', httpVersion: '2.0' })

  const h1 = await h1Request(origin, '/', { ca: pki.root.cert })
  t.equal(h1.status, 200)
  t.equal(h1.alpn, 'http/1.1')
  t.equal(h1.httpVersion, '1.1')
  t.same(JSON.parse(h1.body), { hello: 'world', httpVersion: '1.1' })

  const noAlpn = await h1Request(`https://127.0.0.1:${port}`, '/', { ca: pki.root.cert, alpn: [] })
  t.equal(noAlpn.status, 200, 'a client that offers no ALPN gets HTTP/1.1')
  t.equal(noAlpn.alpn, false)
  t.same(JSON.parse(noAlpn.body), { hello: 'world', httpVersion: '1.1' })
})

test('the presented chain holds the leaf and the intermediate, not the root', async (t) => {
  const app = await helloApp(await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: [pki.intermediate.cert, pki.root.cert] }))
  const { port } = await listen(t, app)
  const seen = await peerChain(port)
  t.same(seen.chain.map((c) => c.fingerprint256), [fingerprint(pki.leaf.cert), fingerprint(pki.intermediate.cert)])
  t.equal(seen.alpn, 'h2')
})

test('a full-chain certificate file (leaf + intermediate) is presented as is, from file paths and file: URLs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-tls-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'key.pem'), pki.leaf.key)
  await writeFile(join(dir, 'fullchain.pem'), pki.leaf.cert + pki.intermediate.cert + pki.root.cert)
  const opts = await serverOptions({ key: join(dir, 'key.pem'), cert: pathToFileURL(join(dir, 'fullchain.pem')) })
  t.notOk('ca' in opts.https, 'no ca list when none was given')
  const app = await helloApp(opts)
  const { port, origin } = await listen(t, app)
  const seen = await peerChain(port)
  t.same(seen.chain.map((c) => c.fingerprint256), [fingerprint(pki.leaf.cert), fingerprint(pki.intermediate.cert)])
  const res = await h2Request(origin, '/', { ca: pki.root.cert, servername: 'localhost' })
  t.equal(res.status, 200)
})

test('Buffers are PEM text', async (t) => {
  const opts = await serverOptions({ key: Buffer.from(pki.leaf.key), cert: Buffer.from(pki.leaf.cert), ca: [Buffer.from(pki.intermediate.cert)] })
  const app = await helloApp(opts)
  const { port } = await listen(t, app)
  t.equal((await peerChain(port)).chain.length, 2)
})

test('TLS 1.2 is the minimum; TLS 1.3 only when asked', async (t) => {
  const app = await helloApp(await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert }))
  const { port } = await listen(t, app)
  t.equal((await peerChain(port, '127.0.0.1', { maxVersion: 'TLSv1.2' })).tlsVersion, 'TLSv1.2')
  t.equal((await peerChain(port)).tlsVersion, 'TLSv1.3')
  // SECLEVEL=0 lets this client offer TLS 1.1, so the refusal comes from the server
  await t.rejects(peerChain(port, '127.0.0.1', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, 'TLS 1.1 is refused by the server')

  const strict = await helloApp(await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, minVersion: 'TLSv1.3' }))
  const s = await listen(t, strict)
  await t.rejects(peerChain(s.port, '127.0.0.1', { maxVersion: 'TLSv1.2' }),
    { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, 'TLS 1.2 is refused with minVersion TLSv1.3')
})

test('allowHTTP1: false refuses HTTP/1.1 clients', async (t) => {
  const app = await helloApp(await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, allowHTTP1: false }))
  const { origin } = await listen(t, app)
  t.equal((await h2Request(origin)).status, 200)
  await t.rejects(h1Request(origin))
})

test('an encrypted key with its passphrase', async (t) => {
  const { createPrivateKey } = await import('node:crypto')
  const encrypted = createPrivateKey(pki.leaf.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 's3cret' }) as string
  const opts = await serverOptions({ key: encrypted, cert: pki.leaf.cert, passphrase: 's3cret' })
  t.equal(opts.https.passphrase, 's3cret')
  const app = await helloApp(opts)
  const { origin } = await listen(t, app)
  t.equal((await h2Request(origin)).status, 200)
  await t.rejects(serverOptions({ key: encrypted, cert: pki.leaf.cert, passphrase: 'wrong' }), { code: 'FST_FLEET_SERVER_TLS_INVALID', message: /private key from the `key` option is not valid/ })
})
