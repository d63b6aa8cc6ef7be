import { X509Certificate } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import fastify from 'fastify'
import t, { test } from 'tap'
import { defaultCacheDir, devCertificate, serverOptions } from '../../plugins/server/index.js'
import { listen } from '../helpers/app.js'
import { h1Request, h2Request } from '../helpers/clients.js'
import { selfSignedPair } from '../helpers/tls.js'

const DAY = 86400_000
let root: string
t.before(async () => { root = await mkdtemp(join(tmpdir(), 'fleet-devcert-')) })
t.teardown(() => rm(root, { recursive: true, force: true }))
let n = 0
const freshDir = (): string => join(root, `cache-${++n}`, 'fastify-fleet')

test('a new certificate for localhost, 127.0.0.1 and ::1, cached with private permissions', async (t) => {
  const cacheDir = freshDir()
  const made = await devCertificate({ cacheDir })
  t.equal(made.cached, false)
  t.equal(made.path, join(cacheDir, 'dev-certificate.pem'))
  const cert = new X509Certificate(made.cert)
  t.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
  t.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(made.key)))
  t.equal(made.expiresAt.getTime(), Date.parse(cert.validTo))
  const days = (Date.parse(cert.validTo) - Date.now()) / DAY
  t.ok(days > 29.9 && days <= 30, `valid for 30 days (${days})`)
  t.equal((await stat(cacheDir)).mode & 0o777, 0o700, 'cache folder is private')
  t.equal((await stat(made.path as string)).mode & 0o777, 0o600, 'cache file is private')
  t.equal(await readFile(made.path as string, 'utf8'), made.key + made.cert, 'one file holds key and certificate')

  const again = await devCertificate({ cacheDir })
  t.equal(again.cached, true, 'the second call reads the cache')
  t.equal(again.cert, made.cert)
  t.equal(again.key, made.key)
})

test('workers starting together all end up with a valid certificate', async (t) => {
  const cacheDir = freshDir()
  const results = await Promise.all(Array.from({ length: 4 }, async () => await devCertificate({ cacheDir })))
  for (const r of results) t.ok(new X509Certificate(r.cert).checkPrivateKey((await import('node:crypto')).createPrivateKey(r.key)))
  const final = await devCertificate({ cacheDir })
  t.equal(final.cached, true)
  t.ok(results.some((r) => r.cert === final.cert), 'the cached file is one of the certificates made')
})

test('remade when expired, about to expire, unreadable, corrupt, readable by others or not covering the hosts', async (t) => {
  const cacheDir = freshDir()
  const first = await devCertificate({ cacheDir })
  const file = first.path as string
  const remade = async (why: string, opts = {}): Promise<void> => {
    const next = await devCertificate({ cacheDir, ...opts })
    t.equal(next.cached, false, `remade: ${why}`)
    t.equal((await stat(file)).mode & 0o777, 0o600)
    t.equal((await devCertificate({ cacheDir, ...opts })).cached, true, `then cached again: ${why}`)
  }

  const expired = await selfSignedPair({ from: new Date(Date.now() - 30 * DAY), to: new Date(Date.now() - DAY) })
  await writeFile(file, expired.key + expired.cert, { mode: 0o600 })
  await remade('expired')

  const soon = await selfSignedPair({ from: new Date(Date.now() - DAY), to: new Date(Date.now() + 3600_000) })
  await writeFile(file, soon.key + soon.cert, { mode: 0o600 })
  await remade('expires within renewBefore (1 day)')

  const future = await selfSignedPair({ from: new Date(Date.now() + DAY), to: new Date(Date.now() + 9 * DAY) })
  await writeFile(file, future.key + future.cert, { mode: 0o600 })
  await remade('not valid yet')

  const other = await selfSignedPair()
  await writeFile(file, other.key + first.cert, { mode: 0o600 })
  await remade('key does not match')

  await writeFile(file, first.cert, { mode: 0o600 })
  await remade('no key')

  await writeFile(file, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', { mode: 0o600 })
  await remade('corrupt')

  await chmod(file, 0o644)
  await remade('readable by others')

  const noSans = await selfSignedPair({ hosts: [] })
  await writeFile(file, noSans.key + noSans.cert, { mode: 0o600 })
  await remade('no subject alternative names')

  await remade('another host asked for', { hosts: ['localhost', 'app.localhost', '127.0.0.1', '::1'] })
  const names = new X509Certificate((await devCertificate({ cacheDir, hosts: ['localhost', 'app.localhost', '127.0.0.1', '::1'] })).cert).subjectAltName
  t.equal(names, 'DNS:localhost, DNS:app.localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
  t.equal((await devCertificate({ cacheDir, hosts: ['LOCALHOST', '0:0:0:0:0:0:0:1'] })).cached, true, 'host names compare case-insensitively, IPv6 in any form')
})

test('an unwritable cache folder still gives a certificate, with path null', async (t) => {
  const parent = join(root, 'read-only')
  await mkdir(parent, { mode: 0o500 })
  t.teardown(() => chmod(parent, 0o700))
  // root ignores folder permissions; a regular file where the folder should be stops everyone
  const blocker = join(root, 'blocker')
  await writeFile(blocker, 'x')
  const made = await devCertificate({ cacheDir: join(blocker, 'fastify-fleet') })
  t.equal(made.path, null)
  t.equal(made.cached, false)
  t.ok(new X509Certificate(made.cert).subjectAltName?.includes('DNS:localhost'))
})

test('without cacheDir, the certificate is cached in the per-user cache folder', async (t) => {
  const saved = process.env.XDG_CACHE_HOME
  t.teardown(() => { if (saved === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved })
  process.env.XDG_CACHE_HOME = join(root, 'xdg')
  const made = await devCertificate()
  t.equal(made.path, join(root, 'xdg', 'fastify-fleet', 'dev-certificate.pem'))
})

test('the default cache folder follows each platform', async (t) => {
  t.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux'), '/x/cache/fastify-fleet')
  t.equal(defaultCacheDir({}, 'linux'), join(homedir(), '.cache', 'fastify-fleet'))
  t.equal(defaultCacheDir({}, 'darwin'), join(homedir(), 'Library', 'Caches', 'fastify-fleet'))
  t.equal(defaultCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'), join('C:\\Users\\u\\AppData\\Local', 'fastify-fleet', 'Cache'))
  t.equal(defaultCacheDir({}, 'win32'), join(homedir(), 'AppData', 'Local', 'fastify-fleet', 'Cache'))
  t.equal(defaultCacheDir(), defaultCacheDir(process.env, process.platform))
})

test('serverOptions() without TLS material uses the dev certificate in development', async (t) => {
  const cacheDir = freshDir()
  const opts = await serverOptions({ mode: 'development', devCertificate: { cacheDir } })
  const cached = await devCertificate({ cacheDir })
  t.equal(opts.https.cert, cached.cert)
  // localhost resolves to 127.0.0.1 here; ::1 needs its own listener
  for (const [bind, names] of [['127.0.0.1', ['localhost', '127.0.0.1']], ['::1', ['[::1]']]] as const) {
    const app = fastify(opts)
    app.get('/health', async () => ({ status: 'ok' }))
    const { port } = await listen(t, app, bind)
    for (const host of names) {
      const origin = `https://${host}:${port}`
      t.equal((await h2Request(origin, '/health', { ca: cached.cert })).status, 200, `HTTP/2 verified for ${host}`)
      t.equal((await h1Request(origin, '/health', { ca: cached.cert })).status, 200, `HTTP/1.1 verified for ${host}`)
    }
  }
})

test('a failure to make the certificate is a coded error', async (t) => {
  const { devCertificate: failing } = await t.mockImport<typeof import('../../plugins/server/dev-certificate.js')>(
    '../../plugins/server/dev-certificate.js',
  { selfsigned: { generate: async () => { throw new Error('no entropy') } } }
  )
  await t.rejects(failing({ cacheDir: freshDir() }), {
    code: 'FST_FLEET_SERVER_DEV_CERT_FAILED',
    message: 'fastify-fleet/server: cannot create the development certificate: no entropy'
  })
})
