// The target and the bystanders of the abuse tests (test/server/abuse-*.test.ts): an app on
// serverOptions() with the limits under test, and well-behaved clients that keep asking meanwhile.
import type { TLSSocket } from 'node:tls'
import fastify from 'fastify'
import { serverOptions, type ServerLimits } from '../../plugins/server/index.js'
import { listen, type AnyFastify } from './app.js'
import { h1Request, h2Request } from './clients.js'
import { sleep } from './eventually.js'
import type { KeyPair } from './tls.js'

export interface AbuseTarget {
  app: AnyFastify
  origin: string
  port: number
  /** The server's TLS connections open now. */
  connections: Set<TLSSocket>
  /** Releases the requests waiting on `GET /hold`. */
  release: () => void
  /** Requests waiting on `GET /hold` now. */
  readonly held: number
}

/** An app on HTTP/2 + TLS with `limits`: `GET /` answers at once, `GET /hold` when `release()` is called, `POST /` echoes the body's length. */
export async function abuseTarget (
  t: { teardown: (fn: () => unknown) => void },
  pair: KeyPair,
  limits: ServerLimits = {},
  extra: Record<string, unknown> = {}
): Promise<AbuseTarget> {
  const app = fastify({ ...await serverOptions({ key: pair.key, cert: pair.cert, limits }), ...extra }) as unknown as AnyFastify
  let waiting: Array<() => void> = []
  app.get('/', async () => ({ ok: true }))
  app.get('/hold', async () => {
    await new Promise<void>((resolve) => waiting.push(resolve))
    return { held: true }
  })
  app.post('/', async (request) => ({ length: String(request.body).length }))
  const connections = new Set<TLSSocket>()
  app.server.on('secureConnection', (socket: TLSSocket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  const release = (): void => {
    for (const resolve of waiting) resolve()
    waiting = []
  }
  // a held request must not keep app.close() waiting
  t.teardown(release)
  const { origin, port } = await listen(t, app)
  return { app, origin, port, connections, release, get held () { return waiting.length } }
}

/** What the bystanders got: one entry per request, the status or the error's code/message. */
export interface BystanderResults {
  h2: Array<number | string>
  h1: Array<number | string>
}

/**
 * Well-behaved clients on their own connections (a fresh one per request): one over HTTP/2, one over
 * HTTP/1.1, each asking `GET /` every 50 ms until `stop()` (at most 2000 requests each).
 */
export function bystanders (origin: string): { stop: () => Promise<BystanderResults> } {
  const state = { running: true }
  const results: BystanderResults = { h2: [], h1: [] }
  const loop = async (ask: typeof h2Request, into: Array<number | string>): Promise<void> => {
    // always at least one request, however short the abuse
    do {
      try {
        into.push((await ask(origin, '/')).status)
      } catch (err) {
        into.push((err as { code?: string }).code ?? (err as Error).message)
      }
      await sleep(50)
    } while (state.running && into.length < 2000)
  }
  const loops = Promise.all([loop(h2Request, results.h2), loop(h1Request, results.h1)])
  return {
    stop: async () => {
      state.running = false
      await loops
      return results
    }
  }
}

/** Waits (at most `ms`) until `done()` holds; returns whether it did. */
export async function within (ms: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await sleep(25)
  return done()
}
