import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, Http2Session, ServerHttp2Stream } from 'node:http2'
import { Server as NetServer, type Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'

/** The last stream id of the first GOAWAY of a graceful shutdown (RFC 9113 §6.8): 2^31-1. */
export const SHUTDOWN_NOTICE_STREAM_ID = 2 ** 31 - 1

/** What a drain did. */
export interface DrainReport {
  /** HTTP/2 sessions that got the two-step GOAWAY (those that connected during the drain too). */
  sessions: number
  /** HTTP/1.1 connections closed during the drain (after a response, or idle for noticeWait). */
  sockets: number
  /** Connections (sessions and HTTP/1.1 connections) still open at the deadline, destroyed. */
  destroyed: number
}

/** Options of a drain. */
export interface DrainOptions {
  /** Milliseconds before whatever is still open is destroyed. */
  timeout: number
  /**
   * Longest wait, in milliseconds, for each PING round trip of a session's two-step GOAWAY (the
   * one before the notice, during which responses do not end, and the one after it) when the
   * client does not answer; and how long an idle HTTP/1.1 connection may still bring a request
   * (answered with `Connection: close`) before it is closed.
   */
  noticeWait: number
}

type AnyRequest = IncomingMessage | Http2ServerRequest
type AnyResponse = ServerResponse | Http2ServerResponse

interface SessionInfo {
  /** Streams open whose response has not ended yet (a held end counts). */
  live: number
  /** While the round trip before the notice is under way: the response ends held back. */
  held: Array<() => void> | null
  /** Ends the round trip after the notice early: the last live stream has closed. */
  idle: (() => void) | null
}

/**
 * Follows the connections of one server (HTTP/2 sessions and HTTP/1.1 sockets, TLS or not) so it can
 * be drained: stop accepting, let what is in flight finish, close the rest, destroy what is left at
 * the deadline. Attach it before the server listens.
 */
export class ConnectionTracker {
  readonly #sessions = new Map<Http2Session, SessionInfo>()
  /** `address|port` of the connections that carry an HTTP/2 session. */
  readonly #sessionPeers = new Set<string>()
  /** HTTP/1.1 connections (those that carry a session are followed through it). */
  readonly #sockets = new Set<Socket>()
  /**
   * HTTP/1.1 responses not yet finished, per connection (an array: one response at a time, more
   * only with pipelining; a `Set` per connection, filled and emptied by each request, makes V8
   * rehash it every few requests, and a churned table's dead successors outlive scavenges).
   */
  readonly #responses = new Map<Socket, AnyResponse[]>()
  /** Two-step GOAWAYs under way. */
  readonly #notices = new Set<Promise<void>>()
  #draining: Promise<DrainReport> | null = null
  /** The deadline has passed, or the drain is over: whatever connects now is destroyed at once. */
  #refusing = false
  #onEmpty: (() => void) | null = null
  #noticeWait = 1000
  #noticed = 0
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
    return { sessions: this.#sessions.size, sockets: this.#sockets.size }
  }

  /**
   * Drains the server: HTTP/2 sessions get the two-step GOAWAY (once the client has read what it
   * was sent, a first one with last-stream-id 2^31-1, then, after a round trip, the final one),
   * HTTP/1.1 responses get `Connection: close` and connections idle for `noticeWait` are closed;
   * the server stops accepting once the clients have had the notice. Resolves when every
   * connection is gone, destroying whatever is left after `timeout`; what connects after that is
   * destroyed at once. Calling it again returns the same drain.
   */
  async drain (options: DrainOptions): Promise<DrainReport> {
    this.#draining ??= this.#run(options)
    return await this.#draining
  }

  async #run ({ timeout, noticeWait }: DrainOptions): Promise<DrainReport> {
    this.#noticeWait = noticeWait
    const deadline = setTimeout(() => this.#expire(), timeout)
    for (const session of this.#sessions.keys()) this.#startNotice(session)
    for (const socket of this.#sockets) {
      for (const res of this.#responses.get(socket) ?? []) {
        if (!res.headersSent) res.setHeader('connection', 'close')
      }
      this.#closeWhenIdle(socket)
    }
    // Stop accepting once every client has had the notice, those that connected meanwhile too.
    // With net.Server's close(): the server's own would close the idle HTTP/1.1 connections at once
    // (racing a client's next request), and, from Node 24 on, the HTTP/2 sessions in one step.
    while (this.#notices.size > 0) await Promise.all(this.#notices)
    if (this.server.listening) NetServer.prototype.close.call(this.server, () => {})
    await new Promise<void>((resolve) => {
      this.#onEmpty = resolve
      this.#checkEmpty()
    })
    clearTimeout(deadline)
    this.#refusing = true
    return { sessions: this.#noticed, sockets: this.#closedSockets, destroyed: this.#destroyed }
  }

  #expire (): void {
    this.#refusing = true
    for (const session of this.#sessions.keys()) {
      this.#destroyed++
      session.destroy()
    }
    for (const socket of this.#sockets) {
      this.#destroyed++
      socket.destroy()
    }
  }

  #startNotice (session: Http2Session): void {
    const notice: Promise<void> = this.#notice(session).then(() => { this.#notices.delete(notice) })
    this.#notices.add(notice)
  }

  /**
   * The two-step GOAWAY of one session: a PING round trip, the notice (last stream id 2^31-1), a
   * second round trip, then `close()`: the final GOAWAY, with the last stream processed, and the
   * end of the session once its streams are done.
   *
   * Node's `goaway()` is no shutdown notice to nghttp2: once any GOAWAY is out, nghttp2 ignores
   * every new stream, whatever its last stream id says. So a request the client sends before it
   * reads the notice is lost (the final GOAWAY reports it unprocessed). Clients send requests in
   * reaction to the responses they read; so the notice waits until the client has read all it was
   * sent: a PING goes first, and until its ACK is in, the responses that finish are held back (the
   * frame that ends each one). Whatever the client sent before its ACK is read and processed; the
   * notice then goes, ahead of the held ends. A response that ends with its headers (HEAD, 204,
   * 304) cannot be held. A client that does not answer holds them for `noticeWait`.
   *
   * After the notice, nghttp2 stops reading once no stream is open: the second round trip ends
   * early when the last one closes, and the final GOAWAY goes at once.
   */
  async #notice (session: Http2Session): Promise<void> {
    const info = this.#sessions.get(session) as SessionInfo
    await new Promise((resolve) => setImmediate(resolve))
    if (session.closed || session.destroyed) return
    const held: Array<() => void> = info.held = []
    await this.#roundTrip(session)
    info.held = null
    const open = !session.closed && !session.destroyed
    if (open) {
      this.#noticed++
      session.goaway(0, SHUTDOWN_NOTICE_STREAM_ID)
    }
    for (const end of held) end()
    if (!open) return
    if (info.live > 0) {
      await this.#roundTrip(session, (idle) => { info.idle = idle })
      info.idle = null
    }
    if (!session.closed && !session.destroyed) session.close()
  }

  /**
   * Sends a PING and waits for its ACK (and for the rest of the read it came in to be processed:
   * a client sends its ACK ahead of the requests it has queued), for the end of the session, for
   * `noticeWait`, or for what `early` is given to call, whichever comes first.
   */
  async #roundTrip (session: Http2Session, early?: (finish: () => void) => void): Promise<void> {
    let finish!: () => void
    const done = new Promise<void>((resolve) => { finish = resolve })
    early?.(finish)
    const timer = setTimeout(finish, this.#noticeWait)
    session.once('close', finish)
    setImmediate(() => session.destroyed || session.ping(() => setImmediate(finish)))
    await done
    clearTimeout(timer)
    session.off('close', finish)
  }

  #track (socket: Socket): void {
    // the connection of an HTTP/2 session (announced just before): followed through the session
    if (this.#sessionPeers.has(peerOf(socket))) return
    this.#sockets.add(socket)
    socket.once('close', () => {
      this.#sockets.delete(socket)
      this.#responses.delete(socket)
      if (this.#draining !== null && !this.#refusing) this.#closedSockets++
      this.#checkEmpty()
    })
    if (this.#refusing) {
      this.#destroyed++
      socket.destroy()
    } else if (this.#draining !== null) {
      this.#closeWhenIdle(socket)
    }
  }

  #trackSession (session: Http2Session): void {
    const peer = peerOf(session.socket)
    const info: SessionInfo = { live: 0, held: null, idle: null }
    this.#sessions.set(session, info)
    this.#sessionPeers.add(peer)
    session.on('stream', (stream: ServerHttp2Stream) => {
      info.live++
      let live = true
      const ended = (): void => {
        if (!live) return
        live = false
        if (--info.live === 0) info.idle?.()
      }
      // Writable's `_final` sends the frame that ends the response: held back during the round
      // trip before the notice
      const final = stream._final
      stream._final = (callback) => {
        if (info.held !== null) {
          info.held.push(() => stream._final(callback))
          return
        }
        ended()
        // destroyed while held back (the drain's deadline): nothing is left to end, and Node 22+
        // throws from `_final` once the stream has lost its session
        if (stream.destroyed) {
          callback()
          return
        }
        final.call(stream, callback)
      }
      stream.once('close', ended)
    })
    session.once('close', () => {
      this.#sessions.delete(session)
      this.#sessionPeers.delete(peer)
      this.#checkEmpty()
    })
    if (this.#refusing) {
      this.#destroyed++
      session.destroy()
    } else if (this.#draining !== null) {
      // a client that connects while the server drains gets the notice at once
      this.#startNotice(session)
    }
  }

  #request (req: AnyRequest, res: AnyResponse): void {
    if (req.httpVersionMajor !== 1) return
    const socket = req.socket as Socket
    let responses = this.#responses.get(socket)
    if (responses === undefined) this.#responses.set(socket, responses = [])
    responses.push(res)
    if (this.#draining !== null) res.setHeader('connection', 'close')
    res.once('close', () => {
      responses.splice(responses.indexOf(res), 1)
      if (this.#draining !== null) this.#closeWhenIdle(socket)
    })
  }

  /**
   * An HTTP/1.1 connection during a drain: the next request it carries is answered with
   * `Connection: close` (and the connection then closed); if it carries none within noticeWait,
   * it is closed. Closing it at once would race a keep-alive client's next request.
   */
  #closeWhenIdle (socket: Socket): void {
    setTimeout(() => this.#closeIfIdle(socket), this.#noticeWait).unref()
  }

  #closeIfIdle (socket: Socket): void {
    if (socket.destroyed || socket.writableEnded || (this.#responses.get(socket)?.length ?? 0) > 0) return
    // end, not destroy: what the last response wrote still reaches the client
    socket.end()
  }

  #checkEmpty (): void {
    if (this.#onEmpty !== null && this.#sessions.size === 0 && this.#sockets.size === 0) {
      const resolve = this.#onEmpty
      this.#onEmpty = null
      resolve()
    }
  }
}

const peerOf = (socket: { remoteAddress?: string, remotePort?: number }): string => `${String(socket.remoteAddress)}|${String(socket.remotePort)}`
