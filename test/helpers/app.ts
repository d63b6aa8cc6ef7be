import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

// any server flavour: http, https or http2

export type AnyFastify = FastifyInstance<any, any, any, any, any>

/**
 * Starts a Fastify app on a free loopback port and closes it when the test ends.
 * Returns the origin (`https://127.0.0.1:PORT` or `http://...`) and the port.
 */
export async function listen (
  t: { teardown: (fn: () => unknown) => void },
  app: AnyFastify,
  host = '127.0.0.1'
): Promise<{ origin: string, port: number }> {
  const address = await app.listen({ port: 0, host })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  return { origin: new URL(address).origin, port }
}
