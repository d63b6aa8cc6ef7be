/**
 * The drain test app in this process (the other copy is `test/cluster/fixtures/drain-server.mjs`;
 * the routes are described in `./drain-targets.ts`).
 */
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import fastify, { type FastifyInstance } from 'fastify'
import type { DrainReport } from '../../plugins/cluster/drain.js'
import { fleetWorker, type FleetWorkerOptions } from '../../plugins/cluster/worker-plugin.js'
import { counters, type DrainTarget, type ShutdownCommand } from './drain-targets.js'
import type { KeyPair } from './tls.js'

/** The in-process app: HTTP/2 + TLS with the HTTP/1.1 fallback. */
export type Http2App = FastifyInstance<Http2SecureServer>

const busy = (ms: number): void => {
  const end = Date.now() + ms
  while (Date.now() < end);
}

/** The app in this process, on 127.0.0.1, closed when the test ends. */
export async function inProcessTarget (
  t: { teardown: (fn: () => unknown) => unknown },
  pair: KeyPair,
  options: FleetWorkerOptions = {},
  setup: (app: Http2App) => void = () => {}
): Promise<DrainTarget & { app: Http2App }> {
  const app = fastify({ http2: true, https: { allowHTTP1: true, key: pair.key, cert: pair.cert } })
  await app.register(fleetWorker, options)
  setup(app)
  const count = counters()
  const sessions = new Set<ServerHttp2Session>()
  app.server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
    count.sessions++
    count.changed()
  })
  const run = async (command: ShutdownCommand): Promise<{ report?: DrainReport, sessions?: number, ms: number }> => {
    const started = performance.now()
    if (command === 'drain') return { report: await app.fleet.drain(), ms: performance.now() - started }
    if (command === 'close') {
      await app.close()
      return { ms: performance.now() - started }
    }
    const open = sessions.size
    for (const session of sessions) session.close()
    app.server.close(() => {})
    return { sessions: open, ms: performance.now() - started }
  }
  const arrived = (): void => {
    count.requests++
    count.changed()
  }
  app.get('/slow', async (request) => {
    const { ms = '500', size = '1000' } = request.query as { ms?: string, size?: string }
    arrived()
    await sleep(Number(ms), undefined, { ref: false })
    return 'x'.repeat(Number(size))
  })
  app.get('/work', async (request) => {
    await sleep(Number((request.query as { ms?: string }).ms ?? 3))
    return 'done'
  })
  app.get('/block', async (request) => {
    const { ms = '100', then } = request.query as { ms?: string, then: ShutdownCommand }
    arrived()
    busy(Number(ms))
    run(then).catch(() => {})
    await sleep(50)
    return 'blocked'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return {
    app,
    origin: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    node: process.version,
    run,
    counts: () => ({ requests: count.requests, sessions: count.sessions }),
    requests: async (n) => await count.until('requests', n),
    sessions: async (n) => await count.until('sessions', n)
  }
}
