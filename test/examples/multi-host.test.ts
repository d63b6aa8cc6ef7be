import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { test, type Test } from 'tap'
import { nginxCommand } from '../../examples/multi-host/config.js'
import { h1Request, h2Request, httpRequestPlain, type ClientResponse, type RequestOptions } from '../helpers/clients.js'
import { isAlive, msg, startFixture, waitGone, type FixtureProcess, type LogLine } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { unavailable } from '../helpers/services.js'

const MAIN = fileURLToPath(new URL('../../examples/multi-host/main.ts', import.meta.url))
const HOSTS = { '127.0.0.11': 'app-1', '127.0.0.12': 'app-2', '127.0.0.13': 'app-3' } as Record<string, string>
// nine processes starting under the TypeScript loader on a shared machine are slow
t.setTimeout(900_000)
let cacheHome: string
t.before(async () => { cacheHome = await mkdtemp(join(tmpdir(), 'fleet-multi-host-')) })
t.teardown(() => rm(cacheHome, { recursive: true, force: true }))

/** Why this machine cannot run the example (no nginx, no 127.0.0.11), or `null`. */
async function missing (): Promise<string | null> {
  const nginx = nginxCommand(process.env)
  const version = spawnSync(nginx, ['-v'])
  if (version.error !== undefined) return `nginx cannot be run (${nginx}): ${version.error.message}`
  try {
    await freePort('127.0.0.11')
  } catch (err) {
    return `no loopback address 127.0.0.11: ${(err as Error).message}`
  }
  return null
}

/** PIDs whose parent is `pid` (nginx's worker processes). */
function childrenOf (pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try {
      return readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(pid)
    } catch {
      return false
    }
  }).map(Number)
}

/** The launcher's own lines (it passes on the hosts' lines too, with their pid and `host`). */
const own = (fx: FixtureProcess, text: string) => (line: LogLine): boolean => msg(text)(line) && line.pid === fx.pid && line.host === undefined

/** The exit code of a launcher, or a rejection after `ms`: every wait is bounded. */
async function exitOf (fx: FixtureProcess, ms = 120_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms; output: ${JSON.stringify(fx.lines.slice(-20))}`)), ms) })
  try {
    return await Promise.race([fx.exit, late])
  } finally {
    clearTimeout(timer)
  }
}

interface Launched {
  fx: FixtureProcess
  ready: LogLine
  origin: string
  port: number
  redirectPort: number
  appPort: number
}

/** Runs the launcher on free ports; teardown stops it with SIGTERM (bounded), then kills by pid what is left. */
async function launch (tt: Test, env: Record<string, string> = {}): Promise<Launched | null> {
  const reason = await missing()
  if (reason !== null) return unavailable(tt, reason)
  const [port, redirectPort, appPort] = [await freePort(), await freePort(), await freePort('127.0.0.11')]
  // registered before startFixture's own teardown (SIGKILL), which runs after this one
  tt.teardown(async () => {
    if (isAlive(fx.pid)) fx.child.kill('SIGTERM')
    await exitOf(fx, 30_000).catch(() => {})
  })
  const fx = startFixture(tt, MAIN, {
    XDG_CACHE_HOME: cacheHome,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    READY_TIMEOUT: '120000',
    REDIS_URL: '',
    SESSION_SECRET: '',
    PORT: String(port),
    REDIRECT_PORT: String(redirectPort),
    APP_PORT: String(appPort),
    ...env
  })
  // a launcher that exits fails the wait at once
  const ready = await Promise.race([
    fx.waitFor(own(fx, 'ready'), 'the launcher', 300_000),
    fx.exit.then((code) => { throw new Error(`the launcher exited (${code}): ${JSON.stringify(fx.lines.slice(-5))}`) })
  ])
  for (const p of ready.processes as Array<{ pid: number }>) fx.alsoKill(p.pid)
  return { fx, ready, origin: ready.url, port, redirectPort, appPort }
}

/** A client keeping cookies like a browser; each response tells which host answered. */
function browser (origin: string) {
  const jar = new Map<string, string>()
  return {
    jar,
    request: async (path: string, opts: RequestOptions & { h1?: boolean } = {}): Promise<ClientResponse & { host: string }> => {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
      const res = await (opts.h1 === true ? h1Request : h2Request)(origin, path, { ...opts, headers: { ...opts.headers, ...(cookie === '' ? {} : { cookie }) } })
      for (const line of [res.headers['set-cookie'] ?? []].flat()) {
        const [pair = ''] = line.split(';')
        const at = pair.indexOf('=')
        jar.set(pair.slice(0, at), pair.slice(at + 1))
      }
      const upstream = String(res.headers['x-fleet-upstream']).split(', ').pop() as string
      return { ...res, host: HOSTS[upstream.split(':')[0] as string] as string }
    }
  }
}

const login = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' }

/** Every process the launcher started (and their workers) is gone once it exited. */
async function stopsCleanly (tt: Test, run: Launched): Promise<void> {
  const pids = [
    ...(run.ready.processes as Array<{ pid: number }>).map((p) => p.pid),
    ...run.fx.lines.filter(msg('worker ready')).map((l) => l.workerPid as number),
    ...childrenOf((run.ready.processes as Array<{ name: string, pid: number }>).find((p) => p.name === 'nginx')?.pid as number)
  ]
  run.fx.child.kill('SIGTERM')
  tt.equal(await exitOf(run.fx), 0, 'exit code 0')
  tt.ok(run.fx.lines.some(own(run.fx, 'stopped')))
  const left = []
  for (const pid of pids) if (!(await waitGone(pid, 10_000))) left.push(pid)
  tt.same(left, [], 'no process left behind')
}

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

test('REDIS_URL, a host killed: requests go to the others, and nobody is logged out', async (t) => {
  const redis = await startRedisServer(t)
  if (redis === null) return
  const run = await launch(t, { WORKERS: '1', REDIS_URL: redis.url, SESSION_SECRET: 'a-secret-shared-by-the-three-hosts' })
  if (run === null) return
  const b = browser(run.origin)
  t.equal((await b.request('/login', login)).status, 200)
  const first = await b.request('/me')
  const victim = (run.ready.hosts as Array<{ name: string, pid: number }>).find((h) => h.name === first.host) as { pid: number }
  process.kill(victim.pid, 'SIGKILL')
  t.ok(await waitGone(victim.pid, 10_000))
  const views = [JSON.parse(first.body).views]
  for (let i = 0; i < 4; i++) {
    const res = await b.request('/me')
    t.equal(res.status, 200)
    t.not(res.host, first.host)
    views.push(JSON.parse(res.body).views)
  }
  t.same(views, [1, 2, 3, 4, 5])
  await run.fx.waitFor(msg(`${first.host} exited`), 'the launcher noticing')
  await stopsCleanly(t, run)
})

test('STICKY=1 SESSION_STORE=memory: one host holds the session; killing it logs the user out', async (t) => {
  const { makePki } = await import('../helpers/tls.js')
  const pki = await makePki()
  await writeFile(join(cacheHome, 'sticky-cert.pem'), `${pki.leaf.cert.trim()}\n${pki.intermediate.cert}`)
  await writeFile(join(cacheHome, 'sticky-key.pem'), pki.leaf.key)
  const run = await launch(t, {
    STICKY: '1',
    SESSION_STORE: 'memory',
    REDIRECT_PORT: '0',
    TLS_CERT: join(cacheHome, 'sticky-cert.pem'),
    TLS_KEY: join(cacheHome, 'sticky-key.pem')
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
  const invalid = startFixture(t, MAIN, { SENTINEL: '1' })
  t.equal(await exitOf(invalid), 1)
  t.equal((await invalid.waitFor(own(invalid, 'invalid configuration'), 'the error')).err, 'SENTINEL: Redis Sentinel is not supported by this example yet')

  if (await missing() !== null) return unavailable(t, String(await missing()))
  const blockers: Server[] = []
  t.teardown(() => { for (const b of blockers) b.close() })
  const block = async (host: string): Promise<number> => {
    const server = createServer()
    blockers.push(server)
    await new Promise<void>((resolve) => server.listen(0, host, resolve))
    return (server.address() as { port: number }).port
  }
  const base = { XDG_CACHE_HOME: cacheHome, SESSION_STORE: 'memory', REDIRECT_PORT: '0', READY_TIMEOUT: '120000' }

  const nginxPort = startFixture(t, MAIN, { ...base, PORT: String(await block('127.0.0.1')), APP_PORT: String(await freePort('127.0.0.11')) })
  t.equal(await exitOf(nginxPort), 1)
  t.match((await nginxPort.waitFor(own(nginxPort, 'start-up failed'), 'the error')).err, /^nginx exited before HTTPS on port/)

  const appPort = startFixture(t, MAIN, { ...base, PORT: String(await freePort()), APP_PORT: String(await block('127.0.0.11')) })
  t.equal(await exitOf(appPort), 1, 'a host that cannot listen stops the start')
  t.match((await appPort.waitFor(own(appPort, 'start-up failed'), 'the error')).err, /^app-1 exited before listening/)

  const early = startFixture(t, MAIN, { ...base, PORT: String(await freePort()), APP_PORT: String(await freePort('127.0.0.11')) })
  await early.waitFor(own(early, 'starting'), 'the launcher', 120_000)
  early.child.kill('SIGTERM')
  await early.waitFor(own(early, 'stopping'), 'the stop', 10_000)
  early.child.kill('SIGINT')
  t.equal(await exitOf(early), 0)
  t.same(early.lines.filter(own(early, 'stopping')).map((l) => l.signal), ['SIGTERM'], 'one stop: a second signal changes nothing')
  t.ok(early.lines.some(own(early, 'stopped')))
  t.notOk(early.lines.some(own(early, 'ready')))
})
