import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { h1Request, h2Request, httpRequestPlain } from '../helpers/clients.js'
import { msg, startFixture, type FixtureProcess } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

const MAIN = fileURLToPath(new URL('../../examples/fleet-app/main.ts', import.meta.url))
// real processes under load start slowly: more than tap's default two minutes for the file
t.setTimeout(600_000)
let cacheHome: string
t.before(async () => { cacheHome = await mkdtemp(join(tmpdir(), 'fleet-main-')) })
t.teardown(() => rm(cacheHome, { recursive: true, force: true }))

type Running = FixtureProcess
/**
 * How long a worker may take to start (or to fail), as the demo is told (READY_TIMEOUT). Through this
 * test's TypeScript loader each demo process spends about 4 CPU-seconds before it listens (1 from the
 * built JavaScript); next to a test file that loads a cluster flat out on two cores, a fresh-clone CI
 * run saw a worker take over 60 s. These tests check what happens, not how fast it starts.
 */
const WORKER_START = 180_000

/** Runs the demo's entry point the way `npm start` does, with this test's TypeScript loader. */
function startDemo (tt: { teardown: (fn: () => unknown) => unknown }, env: Record<string, string>): Running {
  return startFixture(tt, MAIN, { XDG_CACHE_HOME: cacheHome, LOG_LEVEL: 'warn', NODE_ENV: 'development', READY_TIMEOUT: String(WORKER_START), ...env })
}

test('WORKERS=2: two workers share the TLS port over HTTP/2 and HTTP/1.1, a dead worker is replaced, SIGTERM stops all', async (t) => {
  const port = await freePort()
  const redirectPort = await freePort()
  const demo = startDemo(t, { WORKERS: '2', PORT: String(port), REDIRECT_PORT: String(redirectPort) })
  await demo.waitFor(msg('listening'), 'the primary', WORKER_START)
  await demo.waitFor((l) => demo.lines.filter(msg('worker ready')).length >= 2 && l.msg === 'worker ready', 'two workers', WORKER_START)
  const origin = `https://127.0.0.1:${port}`

  const pids = new Set<number>()
  for (let i = 0; i < 6; i++) {
    const res = await (i % 2 === 0 ? h2Request : h1Request)(origin, '/health')
    t.equal(res.status, 200)
    pids.add(JSON.parse(res.body).pid)
  }
  t.equal(pids.size, 2, 'new connections go round-robin to both workers')
  t.notOk(pids.has(demo.child.pid as number), 'the primary serves no requests')

  // SESSION_STORE=cluster (the default): log in once, every worker knows you
  const login = await h1Request(origin, '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' })
  t.equal(login.status, 200)
  const cookie = String([login.headers['set-cookie']].flat()[0]).split(';')[0] as string
  const me: Array<{ user: string, views: number, pid: number }> = []
  for (let i = 0; i < 6; i++) {
    const res = await (i % 2 === 0 ? h2Request : h1Request)(origin, '/me', { headers: { cookie } })
    t.equal(res.status, 200)
    me.push(JSON.parse(res.body))
  }
  t.equal(new Set(me.map((m) => m.pid)).size, 2, 'both workers answered /me')
  t.strictSame(me.map((m) => [m.user, m.views]), [1, 2, 3, 4, 5, 6].map((views) => ['ada', views]), 'one session, views counted across workers')

  const redirect = await httpRequestPlain(`http://127.0.0.1:${redirectPort}`, '/me?x=1')
  t.equal(redirect.status, 301)
  t.equal(redirect.headers.location, `https://127.0.0.1:${port}/me?x=1`)

  const victim = [...pids][0] as number
  process.kill(victim, 'SIGKILL')
  const died = await demo.waitFor(msg('worker died'), 'the respawn', WORKER_START)
  t.equal(died.signal, 'SIGKILL')
  await demo.waitFor(() => demo.lines.filter(msg('worker ready')).length >= 3, 'a third worker', WORKER_START)
  const after = await h2Request(origin, '/health')
  t.equal(after.status, 200)

  demo.child.kill('SIGTERM')
  t.equal(await demo.exit, 0, 'exit code 0 after a clean stop')
  t.ok(demo.lines.some(msg('stopping')))
  t.notOk(demo.lines.filter(msg('worker died')).length > 1, 'stopping workers are not replaced')
})

test('WORKERS=1 runs in this process; SIGINT stops it', async (t) => {
  const port = await freePort()
  const demo = startDemo(t, { WORKERS: '1', PORT: String(port), REDIRECT_PORT: '0', SESSION_SECRET: 's'.repeat(32), HOST_NAME: 'web-1' })
  const listening = await demo.waitFor(msg('listening'), 'start', WORKER_START)
  t.equal(listening.workers, 1)
  t.notOk(demo.lines.some((l) => /random secret/.test(String(l.msg))), 'SESSION_SECRET is used when set')
  const res = await h2Request(`https://127.0.0.1:${port}`, '/health')
  t.same(JSON.parse(res.body), { status: 'ok', pid: demo.child.pid, host: 'web-1' })
  t.notOk(demo.lines.some(msg('redirect listening')), 'REDIRECT_PORT=0: no redirect listener')
  demo.child.kill('SIGINT')
  t.equal(await demo.exit, 0)
  t.same(demo.lines.filter(msg('stopping')).map((l) => l.signal), ['SIGINT'])
})

test('FLEET_CLUSTER=0 on IPv6 loopback with the redirect on, in one process', async (t) => {
  const port = await freePort('::1')
  const redirectPort = await freePort('::1')
  const demo = startDemo(t, { WORKERS: '4', FLEET_CLUSTER: '0', HOST: '::1', PORT: String(port), REDIRECT_PORT: String(redirectPort), ALLOWED_HOSTS: 'app.localhost' })
  const redirect = await demo.waitFor(msg('redirect listening'), 'the redirect', WORKER_START)
  t.same(redirect.allowedHosts, ['app.localhost'])
  t.equal(redirect.url, `http://[::1]:${redirectPort}`)
  t.equal((await demo.waitFor(msg('listening'), 'start', WORKER_START)).url, `https://[::1]:${port}`)
  t.equal((await h2Request(`https://[::1]:${port}`, '/health')).status, 200)
  t.equal((await httpRequestPlain(`http://[::1]:${redirectPort}`, '/', { headers: { host: 'app.localhost' } })).headers.location, `https://app.localhost:${port}/`)
  t.equal((await httpRequestPlain(`http://[::1]:${redirectPort}`, '/')).status, 400, '[::1] is not in ALLOWED_HOSTS')
  demo.child.kill('SIGTERM')
  t.equal(await demo.exit, 0)
})

test('production: TLS files, SESSION_SECRET and ALLOWED_HOSTS; HSTS for the real host name', async (t) => {
  const { makePki } = await import('../helpers/tls.js')
  const { writeFile } = await import('node:fs/promises')
  const pki = await makePki({ hosts: ['app.example.com', '127.0.0.1'] })
  await writeFile(join(cacheHome, 'key.pem'), pki.leaf.key)
  await writeFile(join(cacheHome, 'cert.pem'), pki.leaf.cert)
  await writeFile(join(cacheHome, 'ca.pem'), pki.intermediate.cert)
  const port = await freePort()
  const redirectPort = await freePort()
  const demo = startDemo(t, {
    NODE_ENV: 'production',
    WORKERS: '1',
    PORT: String(port),
    REDIRECT_PORT: String(redirectPort),
    ALLOWED_HOSTS: 'app.example.com',
    SESSION_SECRET: 'p'.repeat(40),
    TLS_KEY: join(cacheHome, 'key.pem'),
    TLS_CERT: join(cacheHome, 'cert.pem'),
    TLS_CA: join(cacheHome, 'ca.pem')
  })
  await demo.waitFor(msg('listening'), 'start', WORKER_START)
  const res = await h2Request(`https://127.0.0.1:${port}`, '/health', { ca: pki.root.cert, servername: 'app.example.com', headers: { ':authority': 'app.example.com' } })
  t.equal(res.status, 200)
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
  const redirect = await httpRequestPlain(`http://127.0.0.1:${redirectPort}`, '/login', { method: 'POST', headers: { host: 'app.example.com' } })
  t.equal(redirect.status, 308)
  t.equal(redirect.headers.location, `https://app.example.com:${port}/login`)
  t.equal(redirect.headers['strict-transport-security'], undefined)
  demo.child.kill('SIGTERM')
  t.equal(await demo.exit, 0)
})

test('an invalid setting stops the start with one clear line and exit code 1', async (t) => {
  const demo = startDemo(t, { WORKERS: 'many' })
  t.equal(await demo.exit, 1)
  const line = await demo.waitFor(msg('invalid configuration'), 'the error', WORKER_START)
  t.equal(line.err, 'WORKERS: expected a whole number from 1 to 1024, got "many"')
  t.equal(line.code, 'FLEET_APP_CONFIG')
})

test('a port in use: in one process exit code 1; in a cluster the workers fail and are replaced until stopped', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = String((blocker.address() as { port: number }).port)

  const single = startDemo(t, { WORKERS: '1', PORT: port, REDIRECT_PORT: '0' })
  t.equal(await single.exit, 1)
  const failed = await single.waitFor(msg('start-up failed'), 'the error', WORKER_START)
  t.equal(failed.code, 'EADDRINUSE')

  const clustered = startDemo(t, { WORKERS: '2', PORT: port, REDIRECT_PORT: '0' })
  const died = await clustered.waitFor(msg('worker died'), 'a failed worker', WORKER_START)
  t.equal(died.code, 1)
  clustered.child.kill('SIGTERM')
  t.equal(await clustered.exit, 0)
})
