// TieredStore over ClusterStore in real cluster workers (test/session/fixtures/tiered-cluster.ts):
// a change or a destroy in one worker is seen by the other on its very next read, through the
// cluster bus, although its copy would live a minute.
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { msg, startFixture, type LogLine } from '../helpers/fixture-process.js'

// real processes that load TypeScript take seconds each to start, more on a busy machine
t.setTimeout(300_000)

const FIXTURE = fileURLToPath(new URL('./fixtures/tiered-cluster.ts', import.meta.url))

test('a change and a destroy in one worker are seen by the other at once', async (t) => {
  const cluster = startFixture(t, FIXTURE)
  const ready = await cluster.waitForCount(msg('fixture: ready'), 2, 'two workers', 60_000)
  const [one, two] = ready.map((line) => line.worker.id as number).sort((a, b) => a - b) as [number, number]
  for (const line of ready) cluster.alsoKill(line.worker.pid as number)
  let sent = 0
  const ask = async (to: number, cmd: string, sid: string, views?: number): Promise<LogLine> => {
    const id = ++sent
    cluster.command({ to, cmd, sid, views })
    const answer = await cluster.waitFor(msg('fixture: answer', { id }), `answer ${id}`, 30_000)
    t.equal(answer.error, undefined, `${cmd} on worker ${to}`)
    return answer
  }
  const sid = `cluster-${Date.now().toString(36)}`
  await ask(one, 'set', sid, 1)
  t.equal((await ask(two, 'get', sid)).session, 1, 'the other worker reads it')
  const cached = await ask(two, 'get', sid)
  t.strictSame([cached.session, cached.near.hits], [1, 1], 'then from its copy')
  await ask(one, 'set', sid, 2)
  t.equal((await ask(two, 'get', sid)).session, 2, 'a change: seen on the next read')
  await ask(one, 'destroy', sid)
  const after = await ask(two, 'get', sid)
  t.equal(after.session, null, 'a destroy: seen on the next read')
  t.equal(after.near.invalidations, 3, 'three messages heard')
  t.equal(after.near.listening, true)
  t.equal((await ask(one, 'get', sid)).near.invalidations, 0, 'none of its own')
  cluster.child.kill('SIGTERM')
  t.equal(await cluster.exit, 0, 'a clean stop')
})
