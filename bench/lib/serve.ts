import type { AddressInfo } from 'node:net'

/** The message a server child sends to the harness over IPC once it listens. */
export interface ListeningMessage {
  type: 'listening'
  port: number
  /**
   * The process whose tree serves the port, when it is not the child itself (a daemon the child
   * started, such as PM2's): the harness reads the server CPU there.
   */
  pid?: number
}

/** The part of a Fastify instance `serve()` needs (any server flavour: HTTP/1.1, HTTPS, HTTP/2). */
interface Listenable {
  listen: (opts: { port: number, host: string }) => Promise<string>
  server: { address: () => AddressInfo | string | null }
}

/**
 * Entry point helper of every bench server: listens on `127.0.0.1:$PORT` (`0` = a free port),
 * then reports the port to the harness over IPC (`{ type: 'listening', port }`), or prints
 * `listening <port>` when started by hand. Exits on SIGTERM/SIGINT and when the harness goes away
 * (IPC disconnect), so a killed harness leaves no server behind. It exits without `app.close()`:
 * a bench server holds nothing worth draining, and HTTP/2 + `allowHTTP1` close can hang on Node 20.
 */
export async function serve (app: Listenable): Promise<void> {
  const port = Number(process.env.PORT ?? 0)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be 0..65535, got ${process.env.PORT}`)
  await app.listen({ port, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address')

  const stop = (): void => process.exit(0)
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  if (process.send !== undefined) {
    process.once('disconnect', stop)
    process.send({ type: 'listening', port: address.port } satisfies ListeningMessage)
  } else {
    console.log(`listening ${address.port}`)
  }
}
