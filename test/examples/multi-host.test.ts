import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { test } from 'tap'
import { h1Request, h2Request, httpRequestPlain } from '../helpers/clients.js'
import { requireH2load } from '../helpers/drain-h2load.js'
import { h2loadRun, newTally } from '../helpers/load-tools.js'
import { startFixture, waitGone } from '../helpers/fixture-process.js'
import { browser, cacheDir, exitOf, launch, login, MAIN, missing, own, stopsCleanly } from '../helpers/multi-host.js'
import { freePort } from '../helpers/ports.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { unavailable } from '../helpers/services.js'

// nine processes starting under the TypeScript loader on a shared machine are slow
t.setTimeout(900_000)

test('sessions in Redis: through nginx over HTTP/2 and HTTP/1.1, every host knows the session', async (t) => {
  const run = await launch(t, { WORKERS: '2' })
  if (run === null) return
  const b = browser(run.origin)

  const seen = new Set<string>()
  for (let i = 0; i < 6; i++) {
    const res = await b.request('/health', { h1: i % 2 === 1 })
    t.equal(res.status, 200)
    t.equal(res.httpVersion, i % 2 === 1 ? '1.1' : '2.0')
    const body = JSON.parse(res.body)
    t.same(Object.keys(body), ['status', 'pid', 'host'])
    t.equal(body.host, res.host, 'the host field names the host nginx chose')
    seen.add(body.host)
  }
  t.same([...seen].sort(), ['app-1', 'app-2', 'app-3'], 'round-robin reaches the three hosts')

  // HSTS follows X-Forwarded-Proto from nginx (not sent for IP literals, which browsers ignore)
  const named = await h2Request(run.origin, '/health', { headers: { ':authority': 'app.example.com' } })
  t.equal(named.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
  const namedH1 = await h1Request(run.origin, '/health', { headers: { host: 'app.example.com' } })
  t.equal(namedH1.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')

  const loggedIn = await b.request('/login', login)
  t.equal(loggedIn.status, 200)
  t.match(String(loggedIn.headers['set-cookie']), /; Secure/, 'the app knows the request came over HTTPS')
  const me = []
  for (let i = 0; i < 6; i++) {
    const res = await b.request('/me', { h1: i % 2 === 1 })
    t.equal(res.status, 200)
    me.push({ ...JSON.parse(res.body), host: res.host })
  }
  t.same(me.map((m) => m.views), [1, 2, 3, 4, 5, 6], 'one session, views counted across hosts')
  t.same([...new Set(me.map((m) => m.host))].sort(), ['app-1', 'app-2', 'app-3'])

  // the client IP in the apps' logs is the client's, whatever X-Forwarded-For it sends
  await h2Request(run.origin, '/health?who', { headers: { 'x-forwarded-for': '203.0.113.7' } })
  const logged = await run.fx.waitFor((l) => l.req?.url === '/health?who', 'the request log')
  t.equal(logged.req.remoteAddress, '127.0.0.1')

  // an app host reached directly does not believe a client's X-Forwarded-Proto: plain HTTP, redirected
  const direct = `http://127.0.0.11:${run.appPort}`
  const forged = await httpRequestPlain(direct, '/login', { ...login, headers: { ...login.headers, host: '127.0.0.1', 'x-forwarded-proto': 'https' } })
  t.equal(forged.status, 308)
  t.equal(forged.headers.location, `https://127.0.0.1:${run.port}/login`)
  t.equal(forged.headers['set-cookie'], undefined)
  const forgedHealth = await httpRequestPlain(direct, '/health', { headers: { host: 'app.example.com', 'x-forwarded-proto': 'https' } })
  t.equal(forgedHealth.status, 400, 'a host not allowed gets no redirect')
  t.equal(forgedHealth.headers['strict-transport-security'], undefined)

  // plain HTTP on REDIRECT_PORT: nginx forwards it, the app redirects to HTTPS on nginx's port
  const redirect = await httpRequestPlain(`http://127.0.0.1:${run.redirectPort}`, '/me?x=1')
  t.equal(redirect.status, 301)
  t.equal(redirect.headers.location, `https://127.0.0.1:${run.port}/me?x=1`)
  t.equal(redirect.headers['strict-transport-security'], undefined)

  await stopsCleanly(t, run)
})

test('REDIS_URL, kill -9 of a host\'s primary under h2load: no failed GET, nobody logged out, the host started again and back in rotation', async (t) => {
  if (!(await requireH2load(t))) return
  const redis = await startRedisServer(t)
  if (redis === null) return
  const run = await launch(t, { WORKERS: '2', REDIS_URL: redis.url, SESSION_SECRET: 'a-secret-shared-by-the-three-hosts' })
  if (run === null) return
  const b = browser(run.origin)
  t.equal((await b.request('/login', login)).status, 200)
  t.equal(JSON.parse((await b.request('/me')).body).views, 1)
  const cookie = `cookie: ${[...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')}`

  // GET /me (a session read and write each) back to back, 2000 a run, until the host is back
  const tally = newTally()
  const state = { done: false }
  const load = (async () => { for (let i = 0; i < 60 && !state.done; i++) await h2loadRun(`${run.origin}/me`, { requests: 2000 }, tally, [cookie]) })()
  await sleep(1000)
  const victim = (run.ready.hosts as Array<{ name: string, pid: number }>).find((h) => h.name === 'app-2') as { pid: number }
  process.kill(victim.pid, 'SIGKILL')
  t.ok(await waitGone(victim.pid, 10_000))
  t.match(await run.fx.waitFor(own(run.fx, 'app-2 exited'), 'the launcher noticing'), { processPid: victim.pid, code: 'SIGKILL' })
  const restarted = await run.fx.waitFor(own(run.fx, 'app-2 restarted'), 'app-2 started again', 180_000)
  run.fx.alsoKill(restarted.processPid)
  state.done = true
  await load
  t.comment(`${tally.done} requests in ${tally.runs} h2load runs`)
  t.ok(tally.done >= 200, `h2load made ${tally.done} requests`)
  t.strictSame({ failed: tally.failed, notOk: tally.notOk }, { failed: 0, notOk: 0 }, 'no failed request, every answer a 2xx')

  const after = await b.request('/me')
  t.equal(after.status, 200, 'still logged in')
  t.ok(JSON.parse(after.body).views > 1, 'the session kept its data')
  // nginx leaves a failed host out for fail_timeout (10 s), then tries it again
  const hosts = new Set<string>()
  for (let i = 0; i < 60 && !hosts.has('app-2'); i++) {
    const res = await b.request('/health')
    hosts.add(res.host)
    if (res.host === 'app-2') {
      const fresh = run.fx.lines.filter((l) => l.msg === 'worker ready' && l.pid === restarted.processPid).map((l) => l.workerPid)
      t.ok(fresh.includes(JSON.parse(res.body).pid), 'a worker of the restarted host answers')
    } else await sleep(500)
  }
  t.ok(hosts.has('app-2'), 'app-2 is back in rotation')
  await stopsCleanly(t, run)
})

test('STICKY=1 SESSION_STORE=memory: one host holds the session; killing it logs the user out', async (t) => {
  const { makePki } = await import('../helpers/tls.js')
  const pki = await makePki()
  await writeFile(join(cacheDir(), 'sticky-cert.pem'), `${pki.leaf.cert.trim()}\n${pki.intermediate.cert}`)
  await writeFile(join(cacheDir(), 'sticky-key.pem'), pki.leaf.key)
  const run = await launch(t, {
    STICKY: '1',
    SESSION_STORE: 'memory',
    REDIRECT_PORT: '0',
    TLS_CERT: join(cacheDir(), 'sticky-cert.pem'),
    TLS_KEY: join(cacheDir(), 'sticky-key.pem')
  })
  if (run === null) return
  const b = browser(run.origin)
  const loggedIn = await b.request('/login', { ...login, ca: pki.root.cert })
  t.equal(loggedIn.status, 200, 'TLS_CERT/TLS_KEY are what nginx presents')
  t.ok(b.jar.has('fleet_route'), 'nginx set its route cookie')
  const holder = loggedIn.host
  for (let i = 1; i <= 4; i++) {
    const res = await b.request('/me', { ca: pki.root.cert, h1: i % 2 === 0 })
    t.equal(res.host, holder, 'the same host every time')
    t.equal(JSON.parse(res.body).views, i)
  }
  const victim = (run.ready.hosts as Array<{ name: string, pid: number }>).find((h) => h.name === holder) as { pid: number }
  process.kill(victim.pid, 'SIGKILL')
  t.ok(await waitGone(victim.pid, 10_000))
  const after = await b.request('/me', { ca: pki.root.cert })
  t.not(after.host, holder, 'another host answers')
  t.equal(after.status, 401, 'the session died with its host: logged out')
  t.equal((await b.request('/login', { ...login, ca: pki.root.cert })).status, 200, 'logging in again works')
  await stopsCleanly(t, run)
})

test('start-up: invalid settings, ports in use, and a signal before it is ready', async (t) => {
  const invalid = startFixture(t, MAIN, { STICKY: 'yes' })
  t.equal(await exitOf(invalid), 1)
  t.equal((await invalid.waitFor(own(invalid, 'invalid configuration'), 'the error')).err, 'STICKY: expected one of 0, 1, got "yes"')

  if (await missing() !== null) return unavailable(t, String(await missing()))
  const blockers: Server[] = []
  t.teardown(() => { for (const b of blockers) b.close() })
  const block = async (host: string): Promise<number> => {
    const server = createServer()
    blockers.push(server)
    await new Promise<void>((resolve) => server.listen(0, host, resolve))
    return (server.address() as { port: number }).port
  }
  const base = { XDG_CACHE_HOME: cacheDir(), SESSION_STORE: 'memory', REDIRECT_PORT: '0', READY_TIMEOUT: '120000' }

  const nginxPort = startFixture(t, MAIN, { ...base, PORT: String(await block('127.0.0.1')), APP_PORT: String(await freePort('127.0.0.11')) })
  t.equal(await exitOf(nginxPort), 1)
  t.match((await nginxPort.waitFor(own(nginxPort, 'start-up failed'), 'the error')).err, /^nginx exited before HTTPS on port/)

  const appPort = startFixture(t, MAIN, { ...base, PORT: String(await freePort()), APP_PORT: String(await block('127.0.0.11')) })
  t.equal(await exitOf(appPort), 1, 'a host that cannot listen stops the start')
  t.match((await appPort.waitFor(own(appPort, 'start-up failed'), 'the error')).err, /^app-1 exited before listening/)

  const early = startFixture(t, MAIN, { ...base, PORT: String(await freePort()), APP_PORT: String(await freePort('127.0.0.11')) })
  await early.waitFor(own(early, 'starting'), 'the launcher', 120_000)
  early.child.kill('SIGHUP') // nothing to restart yet: ignored
  early.child.kill('SIGTERM')
  await early.waitFor(own(early, 'stopping'), 'the stop', 10_000)
  early.child.kill('SIGHUP') // stopping: ignored
  early.child.kill('SIGINT')
  t.equal(await exitOf(early), 0)
  t.same(early.lines.filter(own(early, 'stopping')).map((l) => l.signal), ['SIGTERM'], 'one stop: a second signal changes nothing')
  t.ok(early.lines.some(own(early, 'stopped')))
  t.notOk(early.lines.some(own(early, 'ready')))
  t.notOk(early.lines.some(own(early, 'rolling restart of the hosts')), 'SIGHUP before ready, or while stopping, restarts nothing')
})
