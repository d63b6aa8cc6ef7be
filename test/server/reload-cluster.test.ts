// Certificate reload in a cluster (test/server/fixtures/reload-cluster.ts): with `watch`, the primary
// polls the files once for all workers and tells them; a replacement worker joins in;
// handle.reloadCertificates() reloads every worker by hand and reports each one, failures included.
import { X509Certificate } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t, { test, type Test } from 'tap'
import { msg, startFixture, type FixtureProcess } from '../helpers/fixture-process.js'
import { allPresent, answer } from '../helpers/cluster-tls.js'
import { freePort } from '../helpers/ports.js'
import { issueLeaf, makePki, tlsFiles, type KeyPair, type TestPki } from '../helpers/tls.js'

t.setTimeout(300_000)
const FIXTURE = fileURLToPath(new URL('./fixtures/reload-cluster.ts', import.meta.url))
const READY = 60_000
const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber

let pki: TestPki
t.before(async () => { pki = await makePki() })

async function start (t: Test, watch: boolean): Promise<{ app: FixtureProcess, port: number, pids: number[], replace: (next: KeyPair) => Promise<void>, key: string }> {
  const { key, cert, replace } = await tlsFiles(t, pki.leaf)
  const port = await freePort()
  const app = startFixture(t, FIXTURE, { PORT: String(port), KEY: key, CERT: cert, WATCH: watch ? '1' : '0' })
  const ready = await app.waitForCount(msg('worker ready'), 2, 'two workers', READY)
  const pids = ready.map((l) => l.workerPid as number)
  for (const pid of pids) app.alsoKill(pid)
  return { app, port, pids, replace, key }
}

test('watch: the primary polls once and tells every worker, a replacement too', async (t) => {
  const { app, port, pids, replace } = await start(t, true)
  await allPresent(port, pids, serialOf(pki.leaf.cert))

  const second = await issueLeaf(pki.intermediate)
  await replace(second)
  await allPresent(port, pids, serialOf(second.cert))
  const reloaded = await app.waitForCount(msg('TLS certificate reloaded'), 2, 'a reload in each worker')
  t.same(new Set(reloaded.map((l) => l.pid)), new Set(pids), 'one line from each worker')

  // a replacement starts on the files as they are, and follows the next change too
  process.kill(pids[0] as number, 'SIGKILL')
  const [fresh] = (await app.waitForCount(msg('worker ready'), 3, 'the replacement', READY)).slice(2)
  const now = [pids[1] as number, fresh?.workerPid as number]
  app.alsoKill(now[1] as number)
  await allPresent(port, now, serialOf(second.cert))
  const third = await issueLeaf(pki.intermediate)
  await replace(third)
  await allPresent(port, now, serialOf(third.cert))

  app.command({ cmd: 'reload-certificates' })
  const { reports } = await app.waitFor(msg('fixture: certificates'), 'the report')
  t.same(reports.map((r: { workerId: number, pid: number }) => r.pid).sort(), [...now].sort(), 'one report per worker')
  for (const r of reports) {
    t.match(r, { certificates: [{ changed: false, serial: serialOf(third.cert), expiresAt: String }] }, 'nothing left to swap')
    t.notOk('error' in r)
  }
  app.command({ cmd: 'stop' })
  t.equal(await app.exit, 0)
})

test('handle.reloadCertificates() without watch: every worker swaps; bad files are reported per worker and the old certificate stays', async (t) => {
  const { app, port, pids, replace, key } = await start(t, false)
  const second = await issueLeaf(pki.intermediate)
  await replace(second)
  t.equal((await answer(port)).serial, serialOf(pki.leaf.cert), 'no watch: still the first certificate')

  app.command({ cmd: 'reload-certificates' })
  const swapped = (await app.waitFor(msg('fixture: certificates'), 'the report')).reports
  t.same(swapped.map((r: { pid: number }) => r.pid).sort(), [...pids].sort())
  for (const r of swapped) t.match(r, { certificates: [{ changed: true, serial: serialOf(second.cert) }] })
  await allPresent(port, pids, serialOf(second.cert))

  await writeFile(key, (await issueLeaf(pki.intermediate)).key) // a key without its certificate
  app.command({ cmd: 'reload-certificates' })
  const failed = (await app.waitForCount(msg('fixture: certificates'), 2, 'the second report'))[1]?.reports
  t.equal(failed.length, 2)
  for (const r of failed) {
    t.match(r, { certificates: [], error: { code: 'FST_FLEET_SERVER_TLS_RELOAD_FAILED', message: /does not match/ } })
  }
  await allPresent(port, pids, serialOf(second.cert))
  app.command({ cmd: 'stop' })
  t.equal(await app.exit, 0)
})
