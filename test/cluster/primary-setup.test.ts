// startCluster's `primary` option: run once in the primary, its result handed to every worker's
// `build` as `shared` over IPC (test/cluster/fixtures/status-app.ts with SHARED).
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { httpRequestPlain } from '../helpers/clients.js'
import { msg, startFixture } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

t.setTimeout(300_000)
const FIXTURE = fileURLToPath(new URL('./fixtures/status-app.ts', import.meta.url))
const READY = 60_000

async function sharedOf (origin: string, times: number): Promise<Array<{ shared: unknown, pid: number }>> {
  const answers = []
  for (let i = 0; i < times; i++) answers.push(JSON.parse((await httpRequestPlain(origin, '/shared', { headers: { connection: 'close' } })).body))
  return answers
}

test('primary runs once, in the primary; every worker (a replacement too) builds with its result', async (t) => {
  const port = await freePort()
  const app = startFixture(t, FIXTURE, { PORT: String(port), WORKERS: '2', SHARED: 'from-the-primary' })
  const ready = await app.waitForCount(msg('worker ready'), 2, 'two workers', READY)
  for (const l of ready) app.alsoKill(l.workerPid)
  const answers = await sharedOf(`http://127.0.0.1:${port}`, 6)
  t.same(new Set(answers.map((a) => a.pid)), new Set(ready.map((l) => l.workerPid)), 'both workers answered')
  t.same([...new Set(answers.map((a) => JSON.stringify(a.shared)))], [JSON.stringify({ token: 'from-the-primary', primaryPid: app.pid })])
  t.same(app.lines.filter(msg('fixture: primary setup')).map((l) => l.pid), [app.pid], 'run once, by the primary')

  // a replacement gets it too (asked of the primary again, not run again)
  process.kill(ready[0]?.workerPid as number, 'SIGKILL')
  const [third] = (await app.waitForCount(msg('worker ready'), 3, 'the replacement', READY)).slice(2)
  app.alsoKill(third?.workerPid)
  const after = await sharedOf(`http://127.0.0.1:${port}`, 6)
  t.ok(after.some((a) => a.pid === third?.workerPid), 'the replacement answered')
  t.ok(after.every((a) => (a.shared as { token: string }).token === 'from-the-primary'))
  t.equal(app.lines.filter(msg('fixture: primary setup')).length, 1)
  app.command({ cmd: 'exit' })
  await app.exit
})

test('without primary, shared is undefined; a single process runs primary itself; a rejection rejects startCluster', async (t) => {
  const port = await freePort()
  const none = startFixture(t, FIXTURE, { PORT: String(port), WORKERS: '2' })
  const ready = await none.waitForCount(msg('worker ready'), 2, 'two workers', READY)
  for (const l of ready) none.alsoKill(l.workerPid)
  t.same((await sharedOf(`http://127.0.0.1:${port}`, 2)).map((a) => a.shared), ['undefined', 'undefined'])
  none.command({ cmd: 'exit' })
  await none.exit

  const singlePort = await freePort()
  const single = startFixture(t, FIXTURE, { PORT: String(singlePort), WORKERS: '1', SHARED: 'in-process' })
  await single.waitFor(msg('fixture: primary setup'), 'the setup', READY)
  const [answer] = await (async () => {
    for (let i = 0; i < 600; i++) {
      try { return await sharedOf(`http://127.0.0.1:${singlePort}`, 1) } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
    }
    throw new Error('the single process never listened')
  })()
  t.same(answer, { shared: { token: 'in-process', primaryPid: single.pid }, pid: single.pid })
  single.command({ cmd: 'exit' })
  await single.exit

  const failing = startFixture(t, FIXTURE, { PORT: String(await freePort()), WORKERS: '2', SHARED: 'reject' })
  t.not(await failing.exit, 0, 'startCluster rejected: the fixture fails')
  t.notOk(failing.lines.some(msg('worker forked')), 'no worker was forked')
})
