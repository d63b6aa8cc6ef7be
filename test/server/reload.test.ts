// Certificate reload: reloadCertificates() by hand and serverOptions({ watch }), on a real HTTP/2 + TLS
// server: new connections get the new certificate, open ones keep theirs and keep working, bad new
// files keep the old certificate with one coded error in the log.
import { connect, type ClientHttp2Session } from 'node:http2'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import fastify from 'fastify'
import t, { test, type Test } from 'tap'
import { reloadCertificates, serverOptions, type SecureServerOptions } from '../../plugins/server/index.js'
import { normalizeOptions } from '../../plugins/server/options.js'
import { listen } from '../helpers/app.js'
import { h2Request, peerChain } from '../helpers/clients.js'
import { requireH2load } from '../helpers/drain-h2load.js'
import { h2loadRun, newTally } from '../helpers/load-tools.js'
import { eventually, sleep } from '../helpers/eventually.js'
import { issueLeaf, makePki, tlsFiles, type KeyPair, type TestPki } from '../helpers/tls.js'

const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber
const presented = async (port: number): Promise<string> => (await peerChain(port)).chain[0]?.serialNumber as string

let pki: TestPki
let second: KeyPair
t.before(async () => {
  pki = await makePki()
  second = await issueLeaf(pki.intermediate)
})

/** Fastify's log lines as objects. */
function logSink (): { lines: Array<Record<string, any>>, stream: Writable } {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    }
  })
  return { lines, stream }
}

async function startApp (t: Test, opts: SecureServerOptions, stream?: Writable): Promise<{ app: ReturnType<typeof fastify>, port: number, origin: string }> {
  const app = fastify({ ...await serverOptions(opts), logger: stream === undefined ? false : { level: 'info', stream } }) as unknown as ReturnType<typeof fastify>
  app.get('/', async () => ({ ok: true }))
  const { port, origin } = await listen(t, app)
  return { app, port, origin }
}

const get = async (session: ClientHttp2Session): Promise<number> => await new Promise((resolve, reject) => {
  const req = session.request({ ':path': '/' })
  req.once('response', (headers) => { resolve(Number(headers[':status'])) })
  req.once('error', reject)
  req.resume()
  req.end()
})

test('watch: options', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const paths = { key: files.key, cert: files.cert }
  const secure = (watch: unknown, extra: object = paths): unknown => (normalizeOptions({ ...extra, watch }) as { watch: unknown }).watch
  t.equal(secure(undefined), null)
  t.equal(secure(false), null)
  t.equal(secure(true), 10_000)
  t.equal(secure({}), 10_000)
  t.equal(secure({ interval: 250 }), 250)
  t.equal(secure(true, { key: pathToFileURL(files.key), cert: pathToFileURL(files.cert) }), 10_000, 'file: URLs are files')
  const invalid = { code: 'FST_FLEET_SERVER_INVALID_OPTION' }
  t.throws(() => secure({ interval: 99 }), { ...invalid, message: /watch\.interval/ })
  t.throws(() => secure({ interval: 1.5 }), invalid)
  t.throws(() => secure({ every: 100 }), { ...invalid, message: /watch\.every: unknown option/ })
  t.throws(() => secure('yes'), { ...invalid, message: /watch/ })
  t.throws(() => secure(true, { key: pki.leaf.key, cert: files.cert }), { ...invalid, message: /watch: needs `key` and `cert` as file paths/ })
  t.throws(() => secure(true, { key: files.key, cert: Buffer.from(pki.leaf.cert) }), invalid)
  t.throws(() => secure(true, {}), invalid, 'a development certificate has no files')
  t.throws(() => normalizeOptions({ protocol: 'http', watch: true }), { ...invalid, message: /watch: TLS material makes no sense/ })
})

test('reloadCertificates(): new connections get the new certificate; an open HTTP/2 session keeps its own and keeps working', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const { app, port, origin } = await startApp(t, { key: files.key, cert: files.cert, ca: pki.intermediate.cert })
  t.equal(await presented(port), serialOf(pki.leaf.cert))
  const open = connect(origin, { ca: pki.root.cert, servername: 'localhost' })
  t.teardown(() => open.close())
  t.equal(await get(open), 200)

  await files.replace(second)
  const report = await reloadCertificates(app)
  t.same(report, { changed: true, serial: serialOf(second.cert), fingerprint256: new X509Certificate(second.cert).fingerprint256, expiresAt: new Date(new X509Certificate(second.cert).validTo) })
  t.equal(await presented(port), serialOf(second.cert), 'a new connection gets the new certificate')
  const chain = (await peerChain(port)).chain
  t.equal(chain[1]?.serialNumber, serialOf(pki.intermediate.cert), 'with the intermediate from `ca`, as at start-up')
  const verified = await h2Request(origin, '/', { ca: pki.root.cert, servername: 'localhost' })
  t.equal(verified.status, 200, 'and it verifies against the root')

  t.equal(await get(open), 200, 'the session opened before still answers')
  t.equal((open.socket as unknown as { getPeerCertificate: () => { serialNumber: string } }).getPeerCertificate().serialNumber, serialOf(pki.leaf.cert), 'with the certificate it began with')
  t.equal((await reloadCertificates(app.server)).changed, false, 'the same files again: nothing swapped (the server works too)')
})

test('a bad new file: FST_FLEET_SERVER_TLS_RELOAD_FAILED with the start-up check as its cause; the old certificate stays', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const { app, port } = await startApp(t, { key: files.key, cert: files.cert })
  const failed = { code: 'FST_FLEET_SERVER_TLS_RELOAD_FAILED' }

  await writeFile(files.key, second.key) // a key without its certificate
  await t.rejects(reloadCertificates(app), { ...failed, cause: { code: 'FST_FLEET_SERVER_TLS_KEY_MISMATCH' }, message: /previous certificate stays: .*does not match/ })
  await writeFile(files.cert, 'not a certificate')
  await t.rejects(reloadCertificates(app), { ...failed, cause: { code: 'FST_FLEET_SERVER_TLS_INVALID' } })
  await rm(files.cert)
  await t.rejects(reloadCertificates(app), { ...failed, cause: { code: 'FST_FLEET_SERVER_TLS_FILE_UNREADABLE' } })
  const expired = await issueLeaf(pki.intermediate, { to: new Date(Date.now() - 1000) })
  await files.replace(expired)
  await t.rejects(reloadCertificates(app), { ...failed, cause: { code: 'FST_FLEET_SERVER_TLS_CERT_EXPIRED' } })
  t.equal(await presented(port), serialOf(pki.leaf.cert), 'still the first certificate')

  await files.replace(second)
  t.equal((await reloadCertificates(app)).serial, serialOf(second.cert), 'good files again: reloaded')
  t.equal(await presented(port), serialOf(second.cert))
})

test('reloads run one at a time: concurrent calls all end on what the files hold', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const { app, port } = await startApp(t, { key: files.key, cert: files.cert })
  await files.replace(second)
  const reports = await Promise.all([reloadCertificates(app), reloadCertificates(app), reloadCertificates(app)])
  t.same(reports.map((r) => r.changed), [true, false, false])
  t.equal(await presented(port), serialOf(second.cert))
})

test('reloadCertificates() on a server without files: FST_FLEET_SERVER_RELOAD_UNAVAILABLE', async (t) => {
  const unavailable = { code: 'FST_FLEET_SERVER_RELOAD_UNAVAILABLE' }
  const dev = fastify(await serverOptions({ devCertificate: { cacheDir: await mkdtemp(join(tmpdir(), 'fleet-reload-dev-')) } }))
  t.teardown(() => dev.close())
  await t.rejects(reloadCertificates(dev), unavailable, 'a development certificate')
  const plain = fastify()
  t.teardown(() => plain.close())
  await t.rejects(reloadCertificates(plain), unavailable, 'plain HTTP')
  await t.rejects(reloadCertificates({}), unavailable)
  await t.rejects(reloadCertificates({ server: null }), unavailable)
  await t.rejects(reloadCertificates({ server: 5 }), unavailable)
})

test('inline PEM: reloadCertificates() answers, nothing changes', async (t) => {
  const { app } = await startApp(t, { key: pki.leaf.key, cert: pki.leaf.cert })
  t.equal((await reloadCertificates(app)).changed, false)
})

test('watch: replaced files (rename, then a switched symbolic link) are served within two intervals, logged once', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const sink = logSink()
  const { port } = await startApp(t, { key: files.key, cert: files.cert, watch: { interval: 100 } }, sink.stream)
  await files.replace(second)
  await eventually(async () => { if (await presented(port) !== serialOf(second.cert)) throw new Error('not yet') }, 10_000)
  await sleep(500)
  const reloaded = sink.lines.filter((l) => l.msg === 'TLS certificate reloaded')
  t.same(reloaded.map((l) => l.serial), [serialOf(second.cert)], 'one line, with the new serial')
  t.equal(typeof reloaded[0]?.expiresAt, 'string')

  // certbot's layout: live/ holds links into archive/; a renewal switches the links
  const third = await issueLeaf(pki.intermediate)
  const live = join(files.dir, 'live')
  await writeFile(join(files.dir, 'key3.pem'), third.key)
  await writeFile(join(files.dir, 'cert3.pem'), third.cert)
  await symlink(join(files.dir, 'key3.pem'), `${live}-key`)
  await symlink(join(files.dir, 'cert3.pem'), `${live}-cert`)
  const linked = await startApp(t, { key: `${live}-key`, cert: `${live}-cert`, watch: { interval: 100 } })
  t.equal(await presented(linked.port), serialOf(third.cert))
  await symlink(files.key, `${live}-key.new`)
  await symlink(files.cert, `${live}-cert.new`)
  await rename(`${live}-key.new`, `${live}-key`)
  await rename(`${live}-cert.new`, `${live}-cert`)
  await eventually(async () => { if (await presented(linked.port) !== serialOf(second.cert)) throw new Error('not yet') }, 10_000)
  t.pass('a switched link is a change')
})

test('watch: a bad new file logs one coded error and keeps the old certificate; fixed files are taken', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const sink = logSink()
  const { port } = await startApp(t, { key: files.key, cert: files.cert, watch: { interval: 100 } }, sink.stream)
  await writeFile(files.cert, second.cert) // the new certificate without its key
  await eventually(async () => { if (!sink.lines.some((l) => l.level === 50)) throw new Error('not yet') }, 10_000)
  await sleep(1000)
  const errors = sink.lines.filter((l) => l.level === 50)
  t.equal(errors.length, 1, 'once, not at every look')
  t.equal(errors[0]?.err?.code, 'FST_FLEET_SERVER_TLS_RELOAD_FAILED')
  t.match(errors[0]?.msg, /cannot be used: the previous certificate stays/)
  t.equal(await presented(port), serialOf(pki.leaf.cert))

  await writeFile(files.key, second.key)
  await eventually(async () => { if (await presented(port) !== serialOf(second.cert)) throw new Error('not yet') }, 10_000)
  t.equal(sink.lines.filter((l) => l.msg === 'TLS certificate reloaded').length, 1)
})

test('watch stops with the server', async (t) => {
  const files = await tlsFiles(t, pki.leaf)
  const sink = logSink()
  const { app } = await startApp(t, { key: files.key, cert: files.cert, watch: { interval: 100 } }, sink.stream)
  await sleep(300)
  await app.close()
  await files.replace(second)
  await sleep(800)
  t.same(sink.lines.filter((l) => /TLS|certificate/.test(String(l.msg))), [], 'no reload after close')
})

test('under h2load: the files replaced mid-run, new connections get the new certificate, no request fails', async (t) => {
  if (!(await requireH2load(t))) return
  const files = await tlsFiles(t, pki.leaf)
  const { origin, port } = await startApp(t, { key: files.key, cert: files.cert, watch: { interval: 100 } })
  const tally = newTally()
  const load = h2loadRun(`${origin}/`, { seconds: 4 }, tally)
  await sleep(1000)
  await files.replace(second)
  // fresh connections while the load runs: the old serial, then the new one, every handshake good
  const serials: string[] = []
  while (serials.at(-1) !== serialOf(second.cert) && serials.length < 200) {
    serials.push(await presented(port))
    await sleep(50)
  }
  await load
  t.equal(serials.at(-1), serialOf(second.cert), 'a new connection sees the new serial')
  t.ok(serials.every((s) => s === serialOf(pki.leaf.cert) || s === serialOf(second.cert)))
  t.ok(tally.done > 0, `h2load: ${tally.done} requests`)
  t.equal(tally.failed, 0, 'h2load: no failed request')
  t.equal(tally.notOk, 0, 'h2load: no 4xx/5xx')
})
