// ACME failures without an ACME server: the directory unreachable or hung, with and without a
// certificate to keep serving, and the backoff of the retries.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mock } from 'node:test'
import t from 'tap'
import { AcmeCertificates, type AcmeOptions } from '../../plugins/server/index.js'
import { importAcmeClient, type AcmeClientModule } from '../../plugins/server/acme.js'
import { recordingLogger } from '../helpers/acme.js'
import { eventually } from '../helpers/eventually.js'
import { freePort } from '../helpers/ports.js'
import { selfSignedPair } from '../helpers/tls.js'

const DAY = 86400_000
const root = await mkdtemp(join(tmpdir(), 'fleet-acme-fail-'))
t.teardown(() => rm(root, { recursive: true, force: true }))
let n = 0
const freshDir = (): string => join(root, `dir-${++n}`)
// nothing listens there: connections are refused
const closedUrl = `https://127.0.0.1:${await freePort()}/directory`

const options = (extra: Partial<AcmeOptions> = {}): AcmeOptions => ({
  directoryUrl: closedUrl,
  email: 'ops@fleet.test',
  domains: ['fleet.test'],
  termsOfServiceAgreed: true,
  dir: freshDir(),
  ...extra
})

/** A certificate for fleet.test on disk in `dir`, valid `days` more days. */
async function certificateIn (dir: string, days: number): Promise<string> {
  const pair = await selfSignedPair({ hosts: ['fleet.test'], from: new Date(Date.now() - DAY), to: new Date(Date.now() + days * DAY) })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'key.pem'), pair.key, { mode: 0o600 })
  await writeFile(join(dir, 'cert.pem'), pair.cert)
  return pair.cert
}

t.test('acme-client fits the part of its API AcmeCertificates uses', async (t) => {
  const real: AcmeClientModule = await importAcmeClient()
  t.type(real.Client, 'function')
  await t.rejects(importAcmeClient('acme-client-not-installed'), {
    code: 'FST_FLEET_SERVER_ACME_CLIENT_MISSING',
    message: /npm install acme-client/
  })
})

t.test('no certificate and the directory unreachable: start() rejects with the coded error', async (t) => {
  const logger = recordingLogger()
  const acme = new AcmeCertificates(options({ logger }))
  const err = await acme.start().then(() => null, (e: Error) => e)
  t.match(err, { code: 'FST_FLEET_SERVER_ACME_FAILED', message: /fleet\.test.*ECONNREFUSED/ })
  t.equal(acme.nextAttempt, null, 'nothing to keep serving: no retry scheduled')
  t.match(logger.lines, [{ level: 'error', obj: { err: { code: 'FST_FLEET_SERVER_ACME_FAILED' } } }])
})

t.test('a valid certificate present: a failed renew() logs, keeps the files and retries with doubling backoff', async (t) => {
  const logger = recordingLogger()
  const dir = freshDir()
  const cert = await certificateIn(dir, 60)
  const acme = new AcmeCertificates(options({ dir, logger, retry: { min: 300, max: 1000 } }))
  t.teardown(() => acme.close())
  const started = await acme.start()
  t.same(started.obtained, false, 'the certificate on disk is used')
  t.equal(acme.nextAttempt?.getTime(), started.expiresAt.getTime() - 30 * DAY)

  const before = Date.now()
  await t.rejects(acme.renew(), { code: 'FST_FLEET_SERVER_ACME_FAILED' })
  t.equal(await readFile(join(dir, 'cert.pem'), 'utf8'), cert, 'certificate unchanged')
  t.ok(Math.abs((acme.nextAttempt as Date).getTime() - (before + 300)) < 500, 'retry scheduled after retry.min')
  // the timer retries by itself: 300, then 600, then 1000 (max), 1000
  await eventually(async () => {
    const failures = logger.lines.filter((l) => l.level === 'error')
    if (failures.length < 4) throw new Error(`${failures.length} failures so far`)
  }, 20_000)
  const delays = logger.lines.filter((l) => l.level === 'error').map((l) => l.obj.retryIn)
  t.same(delays.slice(0, 4), [300, 600, 1000, 1000], 'backoff doubles up to retry.max')
  t.match(logger.lines.find((l) => l.level === 'error')?.obj, { err: { code: 'FST_FLEET_SERVER_ACME_FAILED' }, failures: 1 })
  acme.close()
  t.equal(acme.nextAttempt, null, 'close() stops the retries')
  const count = logger.lines.length
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(logger.lines.length, count, 'nothing happens after close()')
  t.equal(await readFile(join(dir, 'cert.pem'), 'utf8'), cert, 'certificate still unchanged')
})

t.test('a certificate due for renewal and the directory unreachable: start() keeps it and retries', async (t) => {
  const logger = recordingLogger()
  const dir = freshDir()
  await certificateIn(dir, 10)
  const acme = new AcmeCertificates(options({ dir, logger, retry: { min: 3_600_000 } }))
  t.teardown(() => acme.close())
  const result = await acme.start()
  t.equal(result.obtained, false)
  t.ok(result.expiresAt.getTime() > Date.now() + 9 * DAY, 'the current certificate keeps serving')
  t.ok(Math.abs((acme.nextAttempt as Date).getTime() - (Date.now() + 3_600_000)) < 5000, 'retry in retry.min')
  t.match(logger.lines.map((l) => l.level), ['info', 'error'])
})

t.test('an order under way when close() is called schedules nothing', async (t) => {
  const dir = freshDir()
  await certificateIn(dir, 60)
  const acme = new AcmeCertificates(options({ dir }))
  await acme.start()
  const renewal = acme.renew()
  acme.close()
  await t.rejects(renewal, { code: 'FST_FLEET_SERVER_ACME_FAILED' })
  t.equal(acme.nextAttempt, null, 'no retry after close()')
})

t.test('an expired certificate on disk is not served: start() orders, and fails without one', async (t) => {
  const dir = freshDir()
  const pair = await selfSignedPair({ hosts: ['fleet.test'], from: new Date(Date.now() - 10 * DAY), to: new Date(Date.now() - DAY) })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'key.pem'), pair.key)
  await writeFile(join(dir, 'cert.pem'), pair.cert)
  const acme = new AcmeCertificates(options({ dir }))
  await t.rejects(acme.start(), { code: 'FST_FLEET_SERVER_ACME_FAILED' })
})

t.test('a directory that accepts connections and never answers fails after the probe timeout', async (t) => {
  const sockets: Socket[] = []
  const silent = createServer((s) => { sockets.push(s) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    silent.close()
  })
  const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/dir`
  const acme = new AcmeCertificates(options({ directoryUrl: url }))
  const started = Date.now()
  await t.rejects(acme.start(), { code: 'FST_FLEET_SERVER_ACME_FAILED', message: /did not answer within 10000 ms/ })
  t.ok(Date.now() - started < 20_000, 'fails within the timeout, not after acme-client\'s retries')
})

t.test('an unreadable account key is a coded failure', async (t) => {
  const dir = freshDir()
  await mkdir(join(dir, 'account-key.pem'), { recursive: true })
  const acme = new AcmeCertificates(options({ dir }))
  await t.rejects(acme.start(), { code: 'FST_FLEET_SERVER_ACME_FAILED', message: /EISDIR/ })
})

t.test('an unreadable directoryCa file is a coded failure', async (t) => {
  const acme = new AcmeCertificates(options({ directoryCa: join(root, 'no-such-ca.pem') }))
  await t.rejects(acme.start(), { code: 'FST_FLEET_SERVER_ACME_FAILED', cause: { code: 'FST_FLEET_SERVER_TLS_FILE_UNREADABLE' } })
})

t.test('a renewal further away than setTimeout() can wait (24.8 days) is reached in steps', async (t) => {
  const logger = recordingLogger()
  const dir = freshDir()
  await certificateIn(dir, 100)
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() })
  t.teardown(() => mock.timers.reset())
  const acme = new AcmeCertificates(options({ dir, logger, retry: { min: 3_600_000 } }))
  t.teardown(() => acme.close())
  await acme.start()
  const due = (acme.nextAttempt as Date).getTime()
  t.ok(due - Date.now() > 69 * DAY, 'renewal due in 70 days')
  for (let step = 0; step < 2; step++) {
    mock.timers.tick(2 ** 31 - 1)
    t.equal(acme.nextAttempt?.getTime(), due, `step ${step + 1}: still waiting for the same moment`)
  }
  t.equal(logger.lines.filter((l) => l.level === 'error').length, 0, 'no order yet')
  mock.timers.tick(due - Date.now())
  mock.timers.reset()
  await eventually(async () => {
    if (!logger.lines.some((l) => l.level === 'error')) throw new Error('no order yet')
  }, 10_000)
  t.pass('the renewal ran when due (and failed: nothing listens)')
})
