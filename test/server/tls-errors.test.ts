import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import t, { test } from 'tap'
import { serverOptions } from '../../plugins/server/index.js'
import { makePki, selfSignedPair, type TestPki } from '../helpers/tls.js'

const DAY = 86400_000
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256
let pki: TestPki
let dir: string
t.before(async () => {
  pki = await makePki()
  dir = await mkdtemp(join(tmpdir(), 'fleet-tls-errors-'))
})
t.teardown(() => rm(dir, { recursive: true, force: true }))

const file = async (name: string, text: string): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

test('an unreadable file fails at start-up with a code and the file name', async (t) => {
  const missing = join(dir, 'missing-key.pem')
  await t.rejects(serverOptions({ key: missing, cert: pki.leaf.cert }), {
    code: 'FST_FLEET_SERVER_TLS_FILE_UNREADABLE',
    message: `fastify-fleet/server: cannot read the key file ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    cause: { code: 'ENOENT' }
  })
  await t.rejects(serverOptions({ key: pki.leaf.key, cert: dir }), {
    code: 'FST_FLEET_SERVER_TLS_FILE_UNREADABLE',
    message: new RegExp(`cannot read the cert file ${dir}: EISDIR`)
  }, 'a folder is not a certificate')
  await t.rejects(serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: [join(dir, 'nope.pem')] }), {
    code: 'FST_FLEET_SERVER_TLS_FILE_UNREADABLE',
    message: /cannot read the ca file .*nope\.pem/
  })
})

test('a file that holds no certificate, or a corrupt one, names the file', async (t) => {
  const notPem = await file('not-a-cert.pem', 'hello\n')
  await t.rejects(serverOptions({ key: pki.leaf.key, cert: notPem }), {
    code: 'FST_FLEET_SERVER_TLS_INVALID',
    message: `fastify-fleet/server: the certificate from file ${notPem} is not valid: no PEM "CERTIFICATE" block found`
  })
  const corrupt = await file('corrupt.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  await t.rejects(serverOptions({ key: pki.leaf.key, cert: corrupt }), {
    code: 'FST_FLEET_SERVER_TLS_INVALID',
    message: new RegExp(`the certificate from file ${corrupt} is not valid: `)
  })
  await t.rejects(serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: corrupt }), {
    code: 'FST_FLEET_SERVER_TLS_INVALID',
    message: new RegExp(`the CA certificate from file ${corrupt}`)
  })
  const badKey = await file('bad-key.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
  await t.rejects(serverOptions({ key: badKey, cert: pki.leaf.cert }), {
    code: 'FST_FLEET_SERVER_TLS_INVALID',
    message: new RegExp(`the private key from file ${badKey} is not valid`)
  })
  await t.rejects(serverOptions({ key: Buffer.from('not a key'), cert: pki.leaf.cert }), {
    code: 'FST_FLEET_SERVER_TLS_INVALID',
    message: /the private key from the `key` Buffer is not valid/
  })
})

test('a key that does not match the certificate names both files', async (t) => {
  const keyFile = await file('other-key.pem', pki.intermediate.key)
  const certFile = await file('leaf.pem', pki.leaf.cert)
  await t.rejects(serverOptions({ key: keyFile, cert: certFile }), {
    code: 'FST_FLEET_SERVER_TLS_KEY_MISMATCH',
    message: `fastify-fleet/server: the private key from file ${keyFile} does not match the certificate from file ${certFile}`
  })
})

test('an expired or not yet valid certificate fails at start-up', async (t) => {
  const expired = await selfSignedPair({ from: new Date(Date.now() - 30 * DAY), to: new Date(Date.now() - DAY) })
  const expiredFile = await file('expired.pem', expired.cert)
  await t.rejects(serverOptions({ key: expired.key, cert: expiredFile }), {
    code: 'FST_FLEET_SERVER_TLS_CERT_EXPIRED',
    message: new RegExp(`the certificate "CN=localhost" from file ${expiredFile} is not valid now \\(valid from .+ GMT to .+ GMT\\)`)
  })
  const future = await selfSignedPair({ from: new Date(Date.now() + DAY), to: new Date(Date.now() + 30 * DAY) })
  await t.rejects(serverOptions({ key: future.key, cert: future.cert }), {
    code: 'FST_FLEET_SERVER_TLS_CERT_EXPIRED',
    message: /the certificate "CN=localhost" from the `cert` option is not valid now/
  })
})

test('an expired intermediate is named with the file it came from', async (t) => {
  const old = await makePki({ intermediateTo: new Date(Date.now() - 1000) })
  const caFile = await file('expired-intermediate.pem', old.intermediate.cert)
  await t.rejects(serverOptions({ key: old.leaf.key, cert: old.leaf.cert, ca: caFile }), {
    code: 'FST_FLEET_SERVER_TLS_CERT_EXPIRED',
    message: new RegExp(`"CN=fleet test intermediate CA" from file ${caFile}`)
  })
  const fullchain = await file('expired-fullchain.pem', old.leaf.cert + old.intermediate.cert)
  await t.rejects(serverOptions({ key: old.leaf.key, cert: fullchain }), {
    code: 'FST_FLEET_SERVER_TLS_CERT_EXPIRED',
    message: new RegExp(`"CN=fleet test intermediate CA" from file ${fullchain}`)
  })
})

test('CA certificates that did not issue the leaf are kept for `ca` but not presented', async (t) => {
  const other = await makePki()
  const opts = await serverOptions({ key: pki.leaf.key, cert: pki.leaf.cert, ca: [other.intermediate.cert, pki.intermediate.cert] })
  t.equal(opts.https.ca?.length, 2)
  const presented = opts.https.cert.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)?.map(fingerprint)
  t.same(presented, [fingerprint(pki.leaf.cert), fingerprint(pki.intermediate.cert)])
})
