/**
 * A bare HTTP/2 client (TLS with ALPN `h2`, or cleartext) that records every frame the server
 * sends. Unlike `node:http2`'s client, it does not close its session when it reads a GOAWAY, so a
 * test sees both frames of a graceful shutdown and the PING between them. It answers the server's
 * SETTINGS and, unless told otherwise (or until told), its PINGs; it opens GET streams (HPACK literals, no Huffman)
 * and gives back their status and body, or how they ended without one.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

/** Frame types by code (RFC 9113 §6). */
const TYPES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'] as const
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const END_STREAM = 0x1
const ACK = 0x1
const END_HEADERS = 0x4
const PADDED = 0x8
const PRIORITY = 0x20
/** SETTINGS_MAX_FRAME_SIZE's initial value. */
const MAX_FRAME = 16384
/** `:status` values of the HPACK static table (RFC 7541 appendix A), by index. */
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 }

/** A frame the server sent. */
export interface ObservedFrame {
  type: string
  flags: number
  streamId: number
  /** GOAWAY only. */
  lastStreamId?: number
  /** GOAWAY and RST_STREAM only. */
  errorCode?: number
}

/** How a stream ended. */
export type StreamOutcome =
  | { kind: 'response', status: number, body: string }
  /** A GOAWAY said the server did not process it (its id is above the GOAWAY's last stream id). */
  | { kind: 'refused' }
  | { kind: 'reset', errorCode: number }
  /** The connection ended first. */
  | { kind: 'closed' }

export interface ObserverOptions {
  /** Whether to answer the server's PINGs, or how many of them (the first ones). @default true */
  answerPings?: boolean | number
  /** Whether to acknowledge the server's SETTINGS (until it does, the server's limits are pending). @default true */
  ackSettings?: boolean
}

interface Pending {
  status: number
  body: Buffer[]
  resolve: (outcome: StreamOutcome) => void
}

export class H2Observer {
  /** The frames the server sent, in order. */
  readonly frames: ObservedFrame[] = []
  /** Resolves when the connection has ended. */
  readonly closed: Promise<void>
  readonly #socket: Socket
  readonly #authority: string
  readonly #scheme: string
  /** PINGs still to answer. */
  #answerPings: number
  /** The payloads of the PINGs left unanswered. */
  readonly #unanswered: Buffer[] = []
  readonly #waiting: Array<{ type: string, count: number, resolve: () => void }> = []
  readonly #pending = new Map<number, Pending>()
  #nextStreamId = 1
  #input = Buffer.alloc(0)
  #onSettings: (() => void) | null = null
  readonly #ackSettings: boolean

  private constructor (socket: Socket, url: URL, options: ObserverOptions) {
    this.#socket = socket
    this.#authority = url.host
    this.#scheme = url.protocol === 'https:' ? 'https' : 'http'
    const answer = options.answerPings ?? true
    this.#answerPings = answer === true ? Infinity : answer === false ? 0 : answer
    this.#ackSettings = options.ackSettings ?? true
    socket.on('data', (chunk: Buffer) => this.#read(chunk))
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => socket.once('close', () => {
      for (const pending of this.#pending.values()) pending.resolve({ kind: 'closed' })
      this.#pending.clear()
      resolve()
    }))
  }

  /** Connects to `origin` and resolves once the server's SETTINGS have arrived (its session exists). */
  static async connect (origin: string, options: ObserverOptions = {}): Promise<H2Observer> {
    const url = new URL(origin)
    const port = Number(url.port)
    const socket = url.protocol === 'https:'
      ? tlsConnect({ host: url.hostname, port, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: 'localhost' })
      : netConnect({ host: url.hostname, port })
    const observer = new H2Observer(socket, url, options)
    await new Promise<void>((resolve, reject) => {
      observer.#onSettings = resolve
      socket.once('error', reject)
      socket.write(Buffer.concat([PREFACE, frame(4, 0, 0)]))
    })
    return observer
  }

  /** The GOAWAY frames received, in order. */
  get goaways (): Array<{ lastStreamId: number, errorCode: number }> {
    return this.frames.filter((f) => f.type === 'GOAWAY').map((f) => ({ lastStreamId: f.lastStreamId as number, errorCode: f.errorCode as number }))
  }

  /** The types of the frames received on the connection itself (stream 0), in order: SETTINGS, PING, GOAWAY... */
  get connectionFrames (): string[] {
    return this.frames.filter((f) => f.streamId === 0).map((f) => f.type)
  }

  /**
   * Sends a GET at once (the bytes are written before this returns) and gives its stream id and outcome.
   * `headers` are sent after the pseudo-headers, names in lower case.
   */
  get (path: string, headers: Record<string, string> = {}): { streamId: number, outcome: Promise<StreamOutcome> } {
    const streamId = this.#nextStreamId
    this.#nextStreamId += 2
    const block = Buffer.concat([
      this.#requestBlock(path),
      ...Object.entries(headers).map(([name, value]) => Buffer.concat([Buffer.from([0]), hpackString(name), hpackString(value)]))
    ])
    const outcome = new Promise<StreamOutcome>((resolve) => this.#pending.set(streamId, { status: Number.NaN, body: [], resolve }))
    // a block over the default frame size goes on in CONTINUATION frames
    const parts: Buffer[] = []
    for (let at = 0; at < block.length; at += MAX_FRAME) parts.push(block.subarray(at, at + MAX_FRAME))
    this.#socket.write(Buffer.concat(parts.map((part, i) => i === 0
      ? frame(1, END_STREAM | (parts.length === 1 ? END_HEADERS : 0), streamId, part)
      : frame(9, i === parts.length - 1 ? END_HEADERS : 0, streamId, part))))
    return { streamId, outcome }
  }

  /**
   * Opens `count` GET streams and cancels each at once (HEADERS then RST_STREAM CANCEL), in one write,
   * as a rapid-reset attacker does; their outcomes are not followed. Returns what `socket.write()` did
   * (`false`: the server is not reading as fast).
   */
  openAndCancel (count: number): boolean {
    const frames: Buffer[] = []
    const cancel = Buffer.alloc(4)
    cancel.writeUInt32BE(8)
    for (let i = 0; i < count; i++) {
      const streamId = this.#nextStreamId
      this.#nextStreamId += 2
      frames.push(frame(1, END_STREAM | END_HEADERS, streamId, this.#requestBlock('/')), frame(3, 0, streamId, cancel))
    }
    return this.#socket.write(Buffer.concat(frames))
  }

  /** Sends one frame as given (`type` by its code), to break the rules on purpose. */
  rawFrame (type: number, flags: number, streamId: number, payload?: Buffer): void {
    this.#socket.write(frame(type, flags, streamId, payload))
  }

  /** Whether the connection is still open on this side. */
  get open (): boolean {
    return !this.#socket.destroyed
  }

  /** Resolves once `count` frames of `type` (`'GOAWAY'`, `'PING'`...) have been received, in all. */
  async received (type: string, count = 1): Promise<void> {
    if (this.#count(type) >= count) return
    await new Promise<void>((resolve) => this.#waiting.push({ type, count, resolve }))
  }

  /** Whether the first GOAWAY came before the frame that ended stream `streamId` (which did end). */
  goawayBeforeEnd (streamId: number): boolean {
    const goaway = this.frames.findIndex((f) => f.type === 'GOAWAY')
    const end = this.frames.findIndex((f) => f.streamId === streamId && (f.flags & END_STREAM) !== 0)
    return goaway >= 0 && end > goaway
  }

  /** Answers the PINGs left unanswered so far, and those to come. */
  answerPings (): void {
    this.#answerPings = Infinity
    for (const payload of this.#unanswered.splice(0)) this.#socket.write(frame(6, ACK, 0, payload))
  }

  /** Sends a GOAWAY (no error, last stream id 0), as a client that goes away. */
  goAway (): void {
    const payload = Buffer.alloc(8)
    this.#socket.write(frame(7, 0, 0, payload))
  }

  /** Ends the connection. */
  close (): void {
    this.#socket.destroy()
  }

  #requestBlock (path: string): Buffer {
    return Buffer.concat([
      Buffer.from([0x82, this.#scheme === 'https' ? 0x87 : 0x86]),
      literal(4, path),
      literal(1, this.#authority)
    ])
  }

  #read (chunk: Buffer): void {
    this.#input = Buffer.concat([this.#input, chunk])
    while (this.#input.length >= 9) {
      const length = this.#input.readUIntBE(0, 3)
      if (this.#input.length < 9 + length) return
      const type = this.#input[3] as number
      const flags = this.#input[4] as number
      const streamId = this.#input.readUInt32BE(5) & 0x7fffffff
      const payload = this.#input.subarray(9, 9 + length)
      this.#input = this.#input.subarray(9 + length)
      this.#frame(type, flags, streamId, payload)
      this.#notify()
    }
  }

  #frame (type: number, flags: number, streamId: number, payload: Buffer): void {
    const observed: ObservedFrame = { type: TYPES[type] ?? `type ${type}`, flags, streamId }
    this.frames.push(observed)
    const pending = this.#pending.get(streamId)
    if (type === 4 && (flags & ACK) === 0) {
      if (this.#ackSettings) this.#socket.write(frame(4, ACK, 0))
      this.#onSettings?.()
      this.#onSettings = null
    } else if (type === 6 && (flags & ACK) === 0) {
      if (this.#answerPings-- > 0) this.#socket.write(frame(6, ACK, 0, payload))
      else this.#unanswered.push(Buffer.from(payload))
    } else if (type === 7) {
      observed.lastStreamId = payload.readUInt32BE(0) & 0x7fffffff
      observed.errorCode = payload.readUInt32BE(4)
      for (const [id, p] of this.#pending) {
        if (id > observed.lastStreamId) {
          this.#pending.delete(id)
          p.resolve({ kind: 'refused' })
        }
      }
    } else if (type === 3 && pending !== undefined) {
      observed.errorCode = payload.readUInt32BE(0)
      this.#pending.delete(streamId)
      pending.resolve({ kind: 'reset', errorCode: observed.errorCode })
    } else if (type === 1 && pending !== undefined) {
      const block = unpad(flags, payload).subarray((flags & PRIORITY) !== 0 ? 5 : 0)
      const first = block[0] as number
      pending.status = (first & 0x80) !== 0 ? STATIC_STATUS[first & 0x7f] ?? -1 : -1
      if ((flags & END_STREAM) !== 0) this.#finish(streamId, pending)
    } else if (type === 0 && pending !== undefined) {
      pending.body.push(unpad(flags, payload))
      if (payload.length > 0) {
        // give the window back at once, so bodies of any size flow
        const increment = Buffer.alloc(4)
        increment.writeUInt32BE(payload.length)
        this.#socket.write(Buffer.concat([frame(8, 0, 0, increment), frame(8, 0, streamId, increment)]))
      }
      if ((flags & END_STREAM) !== 0) this.#finish(streamId, pending)
    }
  }

  #count (type: string): number {
    return this.frames.filter((f) => f.type === type).length
  }

  #notify (): void {
    for (let i = this.#waiting.length - 1; i >= 0; i--) {
      const waiter = this.#waiting[i] as { type: string, count: number, resolve: () => void }
      if (this.#count(waiter.type) >= waiter.count) {
        this.#waiting.splice(i, 1)
        waiter.resolve()
      }
    }
  }

  #finish (streamId: number, pending: Pending): void {
    this.#pending.delete(streamId)
    pending.resolve({ kind: 'response', status: pending.status, body: Buffer.concat(pending.body).toString('utf8') })
  }
}

function frame (type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9)
  header.writeUIntBE(payload.length, 0, 3)
  header[3] = type
  header[4] = flags
  header.writeUInt32BE(streamId, 5)
  return Buffer.concat([header, payload])
}

/** A header field "literal without indexing" with an indexed name and a raw (not Huffman) value shorter than 127 bytes. */
function literal (nameIndex: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1')
  return Buffer.concat([Buffer.from([nameIndex, bytes.length]), bytes])
}

/** An HPACK string literal, not Huffman-coded, of any length (RFC 7541 §5.1-5.2). */
function hpackString (value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1')
  const length: number[] = []
  if (bytes.length < 127) {
    length.push(bytes.length)
  } else {
    length.push(127)
    let rest = bytes.length - 127
    while (rest >= 128) {
      length.push((rest % 128) + 128)
      rest = Math.floor(rest / 128)
    }
    length.push(rest)
  }
  return Buffer.concat([Buffer.from(length), bytes])
}

function unpad (flags: number, payload: Buffer): Buffer {
  if ((flags & PADDED) === 0) return payload
  const padding = payload[0] as number
  return payload.subarray(1, payload.length - padding)
}
