// ACME certificates from a real ACME server: pebble validates HTTP-01 by fetching the challenge from
// the test's httpsRedirectServer, issues the certificate, and an HTTP/2 Fastify app serves it.
import { X509Certificate } from 'node:crypto'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fastify from 'fastify'
import t from 'tap'
import { httpsRedirectServer } from '../../plugins/hsts/index.js'
import { AcmeCertificates, serverOptions, type AcmeOptions } from '../../plugins/server/index.js'
import { leafOf, recordingLogger } from '../helpers/acme.js'
import { h2Request } from '../helpers/clients.js'
import { requireH2load } from '../helpers/drain-h2load.js'
import { eventually, sleep } from '../helpers/eventually.js'
import { h2loadRun, newTally } from '../helpers/load-tools.js'
import { startPebble, type PebbleHandle } from '../helpers/pebble.js'

const DOMAINS = ['fleet.test', 'www.fleet.test']
const YEAR = 365 * 86400

const root = await mkdtemp(join(tmpdir(), 'fleet-acme-'))
t.teardown(() => rm(root, { recursive: true, force: true }))
const dir = join(root, 'main')
// one challenge folder for the whole file: pebble's httpPort is this listener's port. Every
// AcmeCertificates below with its own `dir` gets `challenges/` linked here.
const challengeDir = join(dir, 'challenges')
await mkdir(challengeDir, { recursive: true })
const redirect = await httpsRedirectServer({ port: 0, host: '127.0.0.1', acmeChallenge: challengeDir })
t.teardown(() => redirect.close())
const pebble = await startPebble(t, { httpPort: redirect.port })

/** A folder for another AcmeCertificates, whose challenges land where the listener reads them. */
async function sideDir (name: string, copyFrom?: string): Promise<string> {
  const side = join(root, name)
  if (copyFrom !== undefined) await cp(copyFrom, side, { recursive: true, filter: (src) => !src.endsWith('challenges') })
  else await mkdir(side, { recursive: true })
  await rm(join(side, 'challenges'), { recursive: true, force: true })
  const { symlink } = await import('node:fs/promises')
  await symlink(challengeDir, join(side, 'challenges'))
  return side
}

function options (p: PebbleHandle, extra: Partial<AcmeOptions> = {}): AcmeOptions {
  return {
    directoryUrl: p.directoryUrl,
    directoryCa: p.ca,
    email: 'ops@fleet.test',
    domains: DOMAINS,
    termsOfServiceAgreed: true,
    dir,
    ...extra
  }
}

if (pebble !== null) {
  const pebbleRoot = await pebble.root()

  t.test('a certificate issued through HTTP-01, written to disk and served over HTTP/2', async (t) => {
    const logger = recordingLogger()
    const acme = new AcmeCertificates(options(pebble, { logger }))
    t.teardown(() => acme.close())
    t.equal(acme.challengeDir, challengeDir)
    const result = await acme.start()
    t.equal(result.obtained, true, 'ordered: there was no certificate')
    t.same(acme.expiresAt, result.expiresAt)
    t.ok(logger.lines.some((l) => l.msg.includes('certificate obtained')), 'logged')

    t.equal((await stat(dir)).mode & 0o777, 0o700, 'dir is private')
    t.equal((await stat(acme.keyFile)).mode & 0o777, 0o600, 'key file is private')
    t.equal((await stat(acme.accountKeyFile)).mode & 0o777, 0o600, 'account key is private')
    t.same(await readdir(challengeDir), [], 'challenge answers removed after validation')
    t.same((await readdir(dir)).filter((f) => f.startsWith('.')), [], 'no temp file left')

    const chain = await readFile(acme.certFile, 'utf8')
    const leaf = leafOf(chain)
    t.equal(leaf.subjectAltName, 'DNS:fleet.test, DNS:www.fleet.test')
    t.equal(result.expiresAt.getTime(), Date.parse(leaf.validTo))
    const rootCert = new X509Certificate(pebbleRoot)
    const intermediates = chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)?.slice(1).map((c) => new X509Certificate(c)) ?? []
    const issuer = intermediates.find((c) => leaf.checkIssued(c))
    t.ok(issuer !== undefined && leaf.verify(issuer.publicKey), 'the file holds the intermediate that signed the leaf')
    t.ok(intermediates.some((c) => c.verify(rootCert.publicKey)), 'the chain ends at pebble\'s root')

    const app = fastify(await serverOptions({ key: acme.keyFile, cert: acme.certFile }))
    app.get('/', async () => 'served')
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as import('node:net').AddressInfo).port
    for (const servername of DOMAINS) {
      const answer = await h2Request(`https://127.0.0.1:${port}`, '/', { ca: pebbleRoot, servername })
      t.equal(answer.alpn, 'h2', `${servername}: HTTP/2`)
      t.equal(answer.status, 200)
      t.equal(answer.body, 'served')
      t.equal(answer.peer?.serialNumber, leaf.serialNumber, `${servername}: the issued certificate`)
      t.match(answer.peer?.subjectAltName, `DNS:${servername}`)
    }
  })

  t.test('a second start() with the files present uses them and orders nothing', async (t) => {
    const before = await readFile(join(dir, 'cert.pem'), 'utf8')
    const logger = recordingLogger()
    const acme = new AcmeCertificates(options(pebble, { logger }))
    t.teardown(() => acme.close())
    const result = await acme.start()
    t.equal(result.obtained, false)
    t.equal(result.expiresAt.getTime(), Date.parse(leafOf(before).validTo))
    t.equal(await readFile(acme.certFile, 'utf8'), before, 'file unchanged')
    t.notOk(logger.lines.some((l) => l.msg.includes('ordering')), 'no order')
    t.equal(acme.nextAttempt?.getTime(), result.expiresAt.getTime() - 30 * 86400_000, 'renewal scheduled 30 days before expiry')
    // start() again on the same object reuses the loaded acme-client
    t.equal((await acme.start()).obtained, false)
  })

  t.test('renew() orders a new certificate with a new key, reusing the account', async (t) => {
    const acme = new AcmeCertificates(options(pebble))
    t.teardown(() => acme.close())
    const oldCert = leafOf(await readFile(acme.certFile, 'utf8'))
    const oldKey = await readFile(acme.keyFile, 'utf8')
    const account = await readFile(acme.accountKeyFile, 'utf8')
    const [a, b] = await Promise.all([acme.renew(), acme.renew()])
    t.equal(a, b, 'two renew() calls at once share one order')
    t.equal(a.obtained, true)
    const newCert = leafOf(await readFile(acme.certFile, 'utf8'))
    t.not(newCert.serialNumber, oldCert.serialNumber, 'new serial')
    t.not(await readFile(acme.keyFile, 'utf8'), oldKey, 'new key')
    t.ok(newCert.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(acme.keyFile, 'utf8'))), 'key and certificate match')
    t.equal(await readFile(acme.accountKeyFile, 'utf8'), account, 'same account key')
    // serverOptions() accepts the new pair as it is on disk (what its file watcher reloads)
    t.ok((await serverOptions({ key: acme.keyFile, cert: acme.certFile })).https.cert.includes(newCert.toString().trim().split('\n')[1] as string))
  })

  t.test('a renewal under h2load: the running server takes it through watch, no request fails', async (t) => {
    if (!(await requireH2load(t))) return
    const acme = new AcmeCertificates(options(pebble))
    t.teardown(() => acme.close())
    await acme.start()
    const app = fastify(await serverOptions({ key: acme.keyFile, cert: acme.certFile, watch: { interval: 100 } }))
    app.get('/', async () => 'served')
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as import('node:net').AddressInfo).port
    const before = (await h2Request(`https://127.0.0.1:${port}`, '/', { ca: pebbleRoot, servername: DOMAINS[0] as string })).peer?.serialNumber

    const tally = newTally()
    let loading = true
    const load = h2loadRun(`https://127.0.0.1:${port}/`, { seconds: 10 }, tally).finally(() => { loading = false })
    await sleep(500)
    await acme.renew()
    const renewed = leafOf(await readFile(acme.certFile, 'utf8')).serialNumber
    await eventually(async () => {
      if ((await h2Request(`https://127.0.0.1:${port}`, '/', { ca: pebbleRoot, servername: DOMAINS[0] as string })).peer?.serialNumber !== renewed) throw new Error('not served yet')
    }, 10_000)
    t.ok(loading, 'served while the load still ran')
    await load
    t.not(renewed, before, 'a new certificate')
    t.ok(tally.done > 0, `h2load: ${tally.done} requests`)
    t.equal(tally.failed, 0, 'h2load: no failed request')
    t.equal(tally.notOk, 0, 'h2load: no 4xx/5xx')
  })

  t.test('a certificate due for renewal at start() is renewed; renewBefore beyond its lifetime renews halfway', async (t) => {
    const side = await sideDir('due', dir)
    const logger = recordingLogger()
    const acme = new AcmeCertificates(options(pebble, { dir: side, logger, renewBefore: 100 * YEAR }))
    t.teardown(() => acme.close())
    const old = leafOf(await readFile(acme.certFile, 'utf8'))
    const result = await acme.start()
    t.equal(result.obtained, true)
    t.not(leafOf(await readFile(acme.certFile, 'utf8')).serialNumber, old.serialNumber)
    t.ok(logger.lines.some((l) => l.level === 'info' && l.msg.includes('due for renewal')))
    t.ok(logger.lines.some((l) => l.level === 'warn' && l.msg.includes('renewing halfway')))
    const half = Date.now() + (result.expiresAt.getTime() - Date.now()) / 2
    t.ok(Math.abs((acme.nextAttempt as Date).getTime() - half) < 60_000, 'next renewal halfway to expiry')
  })

  t.test('a certificate that does not cover every domain, or a corrupt one, is replaced', async (t) => {
    const logger = recordingLogger()
    const side = await sideDir('more-domains', dir)
    const acme = new AcmeCertificates(options(pebble, { dir: side, logger, domains: [...DOMAINS, 'api.fleet.test'] }))
    t.teardown(() => acme.close())
    t.equal((await acme.start()).obtained, true)
    t.match(logger.lines.find((l) => l.level === 'warn')?.obj, { missing: ['api.fleet.test'] })
    t.match(leafOf(await readFile(acme.certFile, 'utf8')).subjectAltName, 'DNS:api.fleet.test')

    const corrupt = await sideDir('corrupt', dir)
    await writeFile(join(corrupt, 'cert.pem'), 'not a certificate')
    const logger2 = recordingLogger()
    const again = new AcmeCertificates(options(pebble, { dir: corrupt, logger: logger2 }))
    t.teardown(() => again.close())
    t.equal((await again.start()).obtained, true)
    t.match(logger2.lines.find((l) => l.level === 'warn')?.obj, { err: { code: 'FST_FLEET_SERVER_TLS_INVALID' } })
  })

  t.test('a file that cannot be written fails the order and leaves the files as they were', async (t) => {
    const side = await sideDir('unwritable', dir)
    const cert = await readFile(join(side, 'cert.pem'), 'utf8')
    const key = await readFile(join(side, 'key.pem'), 'utf8')
    const logger = recordingLogger()
    const acme = new AcmeCertificates(options(pebble, { dir: side, logger, retry: { min: 3_600_000 } }))
    t.teardown(() => acme.close())
    t.equal((await acme.start()).obtained, false)
    // the rename onto key.pem fails: a folder now stands there
    await rm(join(side, 'key.pem'))
    await mkdir(join(side, 'key.pem', 'x'), { recursive: true })
    await t.rejects(acme.renew(), { code: 'FST_FLEET_SERVER_ACME_FAILED' })
    t.equal(await readFile(join(side, 'cert.pem'), 'utf8'), cert, 'the certificate is unchanged')
    t.same((await readdir(side)).filter((f) => f.startsWith('.')), [], 'no temp file left')
    t.ok(key.length > 0)
    t.equal(logger.lines.at(-1)?.level, 'error')
  })

  t.test('a directory URL that answers with an error is a coded failure', async (t) => {
    const acme = new AcmeCertificates(options(pebble, { dir: await sideDir('refused'), directoryUrl: pebble.directoryUrl.replace(/\/dir$/, '/nope') }))
    await t.rejects(acme.start(), { code: 'FST_FLEET_SERVER_ACME_FAILED', message: /HTTP 404/ })
    t.equal(acme.nextAttempt, null, 'no retry when start() has nothing to serve')
    t.equal(acme.expiresAt, null)
  })
}
