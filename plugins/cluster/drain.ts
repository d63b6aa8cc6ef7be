import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2'
import type { Server as NetServer, Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'

/** The last stream id of the first GOAWAY of a graceful shutdown (RFC 9113 §6.8): 2^31-1. */
export const SHUTDOWN_NOTICE_STREAM_ID = 2 ** 31 - 1

/** What a drain did. */
export interface DrainReport {
  /** HTTP/2 sessions that got the two-step GOAWAY. */
  sessions: number
  /** HTTP/1.1 connections closed (after their response, or at once when idle). */
  sockets: number
  /** Connections still open at the deadline, destroyed. */
  destroyed: number
}

/** Options of a drain. */
export interface DrainOptions {
  /** Milliseconds before whatever is still open is destroyed. */
  timeout: number
  /**
   * Longest wait, in milliseconds, between the two GOAWAY frames when the client does not answer
   * the PING that measures the round trip.
   */
  noticeWait: number
}

type AnyRequest = IncomingMessage | Http2ServerRequest
type AnyResponse = ServerResponse | Http2ServerResponse

/**
 * Follows the connections of one server (HTTP/2 sessions and HTTP/1.1 sockets, TLS or not) so it can
 * be drained: stop accepting, let what is in flight finish, close the rest, destroy what is left at
 * the deadline. Attach it before the server listens.
 */
export class ConnectionTracker {
  readonly #sessions = new Set<Http2Session>()
  /** `address|port` of the connections that carry an HTTP/2 session. */
  readonly #sessionPeers = new Set<string>()
  readonly #sockets = new Set<Socket>()
  /** HTTP/1.1 responses not yet finished, per connection. */
  readonly #responses = new Map<Socket, Set<AnyResponse>>()
  #draining: Promise<DrainReport> | null = null
  #onEmpty: (() => void) | null = null
  #noticeWait = 1000
  #closedSockets = 0
  #destroyed = 0

  constructor (private readonly server: NetServer) {
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => this.#track(socket))
    server.on('session', (session: Http2Session) => this.#trackSession(session))
    // first, so a response started during a drain carries `Connection: close` whatever the route does
    server.prependListener('request', (req: AnyRequest, res: AnyResponse) => this.#request(req, res))
  }

  get draining (): boolean {
    return this.#draining !== null
  }

  /** Open HTTP/2 sessions and HTTP/1.1 connections. */
  get open (): { sessions: number, sockets: number } {
    let sockets = 0
    for (const socket of this.#sockets) if (!this.#carriesSession(socket)) sockets++
    return { sessions: this.#sessions.size, sockets }
  }

  /**
   * Drains the server: HTTP/2 sessions get the two-step GOAWAY (a first one with last-stream-id
   * 2^31-1, then, once a PING has made the round trip, the final one), HTTP/1.1 responses in flight
   * get `Connection: close` and idle connections are closed; the server stops accepting once the
   * clients have had the notice. Resolves when every connection is gone, destroying whatever is
   * left after `timeout`. Calling it again returns the same drain.
   */
  async drain (options: DrainOptions): Promise<DrainReport> {
    this.#draining ??= this.#run(options)
    return await this.#draining
  }

  async #run ({ timeout, noticeWait }: DrainOptions): Promise<DrainReport> {
    this.#noticeWait = noticeWait
    const deadline = setTimeout(() => this.#destroyAll(), timeout)
    const sessions = [...this.#sessions]
    const notices = sessions.map(async (session) => await this.#notice(session))
    for (const socket of this.#sockets) {
      for (const res of this.#responses.get(socket) ?? []) {
        if (!res.headersSent) res.setHeader('connection', 'close')
      }
      this.#closeIfIdle(socket)
    }
    await Promise.all(notices)
    // every client has had the notice: stop accepting (Node ≥ 24 also closes the sessions here)
    if (this.server.listening) this.server.close(() => {})
    const empty = new Promise<void>((resolve) => { this.#onEmpty = resolve })
    this.#checkEmpty()
    await empty
    clearTimeout(deadline)
    return { sessions: sessions.length, sockets: this.#closedSockets, destroyed: this.#destroyed }
  }

  #destroyAll (): void {
    for (const session of this.#sessions) {
      this.#destroyed++
      session.destroy()
    }
    for (const socket of this.#sockets) {
      if (this.#carriesSession(socket)) continue
      this.#destroyed++
      socket.destroy()
    }
  }

  /** First GOAWAY, a PING for the round trip, then `close()`: the final GOAWAY once streams end. */
  async #notice (session: Http2Session): Promise<void> {
    if (session.closed || session.destroyed) return
    session.goaway(0, SHUTDOWN_NOTICE_STREAM_ID)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#noticeWait)
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      session.once('close', done)
      if (!session.ping(done)) done()
    })
    if (!session.closed && !session.destroyed) session.close()
  }

  #track (socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => {
      this.#sockets.delete(socket)
      this.#responses.delete(socket)
      this.#checkEmpty()
    })
  }

  #trackSession (session: Http2Session): void {
    const peer = peerOf(session.socket)
    this.#sessions.add(session)
    this.#sessionPeers.add(peer)
    session.once('close', () => {
      this.#sessions.delete(session)
      this.#sessionPeers.delete(peer)
      this.#checkEmpty()
    })
    // a client that connects while the server drains gets the notice at once
    if (this.#draining !== null) this.#notice(session)
  }

  #carriesSession (socket: Socket): boolean {
    return this.#sessionPeers.has(peerOf(socket))
  }

  #request (req: AnyRequest, res: AnyResponse): void {
    if (req.httpVersionMajor !== 1) return
    const socket = req.socket as Socket
    let responses = this.#responses.get(socket)
    if (responses === undefined) this.#responses.set(socket, responses = new Set())
    responses.add(res)
    if (this.#draining !== null) res.setHeader('connection', 'close')
    res.once('close', () => {
      responses.delete(res)
      if (this.#draining !== null) this.#closeIfIdle(socket)
    })
  }

  #closeIfIdle (socket: Socket): void {
    if (socket.destroyed || this.#carriesSession(socket) || (this.#responses.get(socket)?.size ?? 0) > 0) return
    if (socket.writableEnded) return
    this.#closedSockets++
    // end, not destroy: what the last response wrote still reaches the client
    socket.end()
  }

  #checkEmpty (): void {
    if (this.#onEmpty !== null && this.#sessions.size === 0 && this.open.sockets === 0) {
      const resolve = this.#onEmpty
      this.#onEmpty = null
      resolve()
    }
  }
}

const peerOf = (socket: { remoteAddress?: string, remotePort?: number }): string => `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`
