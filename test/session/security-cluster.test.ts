// Session security across the processes of a cluster (test/session/fixtures/security-cluster.ts):
// two workers, sessions in ClusterStore (kept by the primary) encrypted with encryptedSerializer.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { httpRequestPlain, type ClientResponse } from '../helpers/clients.js'
import { msg, startFixture, type FixtureProcess } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/security-cluster.ts', import.meta.url))
// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

interface Worker { id: number, pid: number }

async function start (tt: Parameters<typeof startFixture>[0]): Promise<{ cluster: FixtureProcess, workers: Worker[], origin: string }> {
  const port = await freePort()
  const cluster = startFixture(tt, FIXTURE, { PORT: String(port), ENCRYPTION_KEY: randomBytes(32).toString('base64') })
  const ready = await cluster.waitForCount(msg('fixture: ready'), 2, 'two workers', 60_000)
  const workers = ready.map((line) => ({ id: line.worker.id, pid: line.worker.pid }) as Worker)
  for (const w of workers) cluster.alsoKill(w.pid)
  return { cluster, workers, origin: `http://127.0.0.1:${port}` }
}

/** `count` requests, each on a new connection (the primary hands connections to the workers in turn). */
async function requests (count: number, send: () => Promise<ClientResponse>): Promise<Array<{ status: number, pid: number, user?: string }>> {
  const answers = []
  for (let i = 0; i < count; i++) {
    const res = await send()
    answers.push({ status: res.status, ...JSON.parse(res.body) as { pid: number, user?: string } })
  }
  return answers
}

test('two workers: the record in the primary is encrypted, an altered one logs out everywhere, a destroyed session\'s cookie is refused by every worker', async (t) => {
  const { cluster, workers, origin } = await start(t)
  const pids = workers.map((w) => w.pid).sort()
  const marker = `ada-${randomBytes(4).toString('hex')}`
  const login = async (): Promise<{ cookie: string, sid: string }> => {
    const res = await httpRequestPlain(origin, '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: marker }) })
    t.equal(res.status, 200)
    const cookie = String(res.headers['set-cookie']).split(';')[0] as string
    const signed = decodeURIComponent(cookie.slice('sessionId='.length))
    return { cookie, sid: signed.slice(0, signed.lastIndexOf('.')) }
  }
  const me = async (cookie: string): Promise<ClientResponse> => await httpRequestPlain(origin, '/me', { headers: { cookie } })
  const ask = async (cmd: string, to: Worker, data: Record<string, unknown>): Promise<Record<string, any>> => {
    const before = cluster.lines.filter(msg(`fixture: ${cmd}`)).length
    cluster.command({ cmd, to: to.id, data })
    return (await cluster.waitForCount(msg(`fixture: ${cmd}`), before + 1, cmd))[before] as Record<string, any>
  }

  // encrypted at rest, read by both workers
  const first = await login()
  const seen = await requests(4, async () => await me(first.cookie))
  t.strictSame(seen.map((a) => [a.status, a.user]), Array(4).fill([200, marker]), 'logged in on every request')
  t.strictSame([...new Set(seen.map((a) => a.pid))].sort(), pids, 'both workers read the session')
  const raw = await ask('raw', workers[0] as Worker, { sid: first.sid })
  t.match(raw.entry?.value, /^"v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+"$/, 'the primary holds the encrypted record')
  t.notOk(String(raw.entry?.value).includes(marker), 'and not the user')

  // one character of the record altered in the primary: no worker reads a session
  const text = raw.entry.value as string
  const at = text.lastIndexOf('.') + 1
  const replaced = await ask('replace', workers[1] as Worker, { sid: first.sid, text: text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1) })
  t.equal(replaced.replaced, true)
  const altered = await requests(4, async () => await me(first.cookie))
  t.strictSame(altered.map((a) => a.status), [401, 401, 401, 401], 'an altered record is no session')
  t.strictSame([...new Set(altered.map((a) => a.pid))].sort(), pids, 'in both workers')
  // a worker's log line reaches this process after its answer: wait for the fourth
  const storeLine = (l: Record<string, any>): boolean => /^fixture: store /.test(l.msg)
  await cluster.waitForCount(storeLine, 4, 'four store log lines')
  t.strictSame(cluster.lines.filter(storeLine).map((l) => [l.msg, l.code]), Array(4).fill(['fixture: store warn', 'FST_FLEET_SESSION_CORRUPT']), 'each read logged')

  // log out in one worker: the cookie, replayed, is refused by both
  const second = await login()
  t.strictSame((await requests(2, async () => await me(second.cookie))).map((a) => a.status), [200, 200])
  const logout = await httpRequestPlain(origin, '/logout', { method: 'POST', headers: { cookie: second.cookie } })
  t.equal(logout.status, 204)
  const replayed = await requests(4, async () => await me(second.cookie))
  t.strictSame(replayed.map((a) => a.status), [401, 401, 401, 401], 'the replayed cookie of a destroyed session')
  t.strictSame([...new Set(replayed.map((a) => a.pid))].sort(), pids, 'refused by both workers')
  t.equal((await ask('raw', workers[0] as Worker, { sid: second.sid })).entry, null, 'the primary holds nothing under that id')

  cluster.child.kill('SIGTERM')
  t.equal(await cluster.exit, 0, 'a clean stop')
})
