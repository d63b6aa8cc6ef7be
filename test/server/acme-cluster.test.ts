// ACME in a cluster (test/server/fixtures/acme-cluster.ts) against a real ACME server (pebble): only
// the primary orders, through its own redirect listener; both workers serve the certificate, and a
// renewal reaches every worker through `watch` (the primary looks at the files for all of them).
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { allPresent } from '../helpers/cluster-tls.js'
import { msg, startFixture } from '../helpers/fixture-process.js'
import { startPebble } from '../helpers/pebble.js'
import { freePort } from '../helpers/ports.js'

t.setTimeout(300_000)
const FIXTURE = fileURLToPath(new URL('./fixtures/acme-cluster.ts', import.meta.url))
const READY = 60_000

const httpPort = await freePort()
const pebble = await startPebble(t, { httpPort })

if (pebble !== null) {
  t.test('the primary orders and renews; every worker serves what it wrote', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'fleet-acme-cluster-'))
    t.teardown(() => rm(root, { recursive: true, force: true }))
    const ca = join(root, 'pebble-ca.pem')
    await writeFile(ca, pebble.ca)
    const dir = join(root, 'acme')
    const serial = async (): Promise<string> => new X509Certificate(await readFile(join(dir, 'cert.pem'), 'utf8')).serialNumber

    const port = await freePort()
    const app = startFixture(t, FIXTURE, {
      PORT: String(port), HTTP_PORT: String(httpPort), DIRECTORY_URL: pebble.directoryUrl, DIRECTORY_CA: ca, ACME_DIR: dir
    })
    const ready = await app.waitForCount(msg('worker ready'), 2, 'two workers', READY)
    const pids = ready.map((l) => l.workerPid as number)
    for (const pid of pids) app.alsoKill(pid)
    const ordered = app.lines.filter(msg('fixture: certificate'))
    t.same(ordered.map((l) => [l.pid, l.obtained]), [[app.pid, true]], 'one order, by the primary')
    const first = await serial()
    await allPresent(port, pids, first)

    app.command({ cmd: 'renew' })
    t.equal((await app.waitFor(msg('fixture: renewed'), 'the renewal', READY)).obtained, true)
    const renewed = await serial()
    t.not(renewed, first)
    await allPresent(port, pids, renewed)
    const reloaded = await app.waitForCount(msg('TLS certificate reloaded'), 2, 'a reload in each worker')
    t.same(new Set(reloaded.map((l) => l.pid)), new Set(pids))

    app.command({ cmd: 'stop' })
    t.equal(await app.exit, 0)
  })
}
