// The drain on Node 20, 22 and 24 (they differ: from 24 on, the HTTP/2 server's close() closes the
// sessions itself, in one step). Each version runs the server in a child process (the fixture
// drain-server.mjs, with fleetWorker transpiled from the sources); the clients run here.
// Node 22 and 24 come from `npx -y node@<major>`: without it, the test fails with CI=true, and
// is skipped with the reason otherwise; so is the h2load part without h2load.
import t from 'tap'
import { checkH2load, nodeExecutable, requireH2load } from '../helpers/drain-h2load.js'
import { checkHeldEnd, checkIdleClose, checkInFlight, checkUnread, childTarget } from '../helpers/drain-targets.js'
import { H2Observer } from '../helpers/h2-observer.js'
import { selfSignedPair, type KeyPair } from '../helpers/tls.js'
import { transpiledModule } from '../helpers/transpiled.js'

let pair: KeyPair
let moduleUrl: string
t.before(async () => {
  pair = await selfSignedPair()
  moduleUrl = await transpiledModule(t, 'plugins/cluster/worker-plugin.ts')
})

for (const major of [20, 22, 24]) {
  t.test(`Node ${major}`, async (t) => {
    const node = await nodeExecutable(t, major)
    if (node === null) return
    const server = async (): Promise<Awaited<ReturnType<typeof childTarget>>> => await childTarget(t, node, moduleUrl, pair)

    await t.test('(a) app.close() with an idle HTTP/2 session: prompt, the notice then the final GOAWAY', async (t) => {
      const target = await server()
      t.equal(target.node.split('.')[0], `v${major}`)
      await checkIdleClose(t, target, async (origin) => await H2Observer.connect(origin))
    })

    await t.test('(b) requests in flight over HTTP/2 and HTTP/1.1 keep-alive complete during a drain', async (t) => {
      await checkInFlight(t, await server())
    })

    await t.test('a request sent while the server is blocked: the two-step GOAWAY answers it, the one-step refuses it', async (t) => {
      for (const command of ['drain', 'one-step'] as const) {
        const target = await server()
        const observer = await H2Observer.connect(target.origin)
        const late = await checkUnread(t, target, command, observer)
        t.strictSame(late, command === 'drain' ? { kind: 'response', status: 200, body: 'done' } : { kind: 'refused' }, command)
        observer.close()
      }
    })

    await t.test('responses do not end until the client answers the PING before the notice, and what it sent before that answer is served', async (t) => {
      const target = await server()
      await checkHeldEnd(t, target, await H2Observer.connect(target.origin, { answerPings: false }))
    })

    await t.test('h2load: the two-step GOAWAY loses nothing; the one-step shutdown for contrast', async (t) => {
      if (!await requireH2load(t)) return
      await checkH2load(t, server)
    })
  })
}
