// The soak's two kinds of client connection to the demo (one per virtual user): an HTTP/2 session
// and an HTTP/1.1 keep-alive socket, both over TLS, with the retry every HTTP client makes for a
// request the server provably did not read (and nothing else).
import { Agent, request as httpsRequest } from 'node:https'
import { connect, constants, type ClientHttp2Session } from 'node:http2'

/** What a request got: a status and body, or an error code (the connection failed). */
export interface Answer {
  status: number
  body: string
  /** The error code when the request failed without an answer (`ECONNRESET`, `ERR_HTTP2_STREAM_ERROR`…). */
  error: string | null
  /** Whether it was sent again on a new connection because the server had not read it. */
  retried: boolean
}

export interface Call {
  method: 'GET' | 'POST'
  path: string
  cookie: string | null
  body?: unknown
}

/** One connection of one virtual user; `close()` ends it. */
export interface SoakClient {
  readonly protocol: 'h2' | 'http/1.1'
  send: (call: Call) => Promise<Answer & { setCookie: string | null }>
  close: () => void
}

const TIMEOUT = 10_000
const cookieOf = (header: string | string[] | undefined): string | null => {
  const line = Array.isArray(header) ? header[0] : header
  return line === undefined ? null : (line.split(';')[0] as string)
}
const failed = (error: string, retried: boolean): Answer & { setCookie: null } => ({ status: 0, body: '', error, retried, setCookie: null })

/** HTTP/2: one session, opened again when the server closed it (GOAWAY after a drain, a killed worker). */
export function h2Client (origin: string): SoakClient {
  let session: ClientHttp2Session | null = null
  const open = (): ClientHttp2Session => {
    if (session !== null && !session.closed && !session.destroyed) return session
    const s = connect(origin, { rejectUnauthorized: false })
    s.on('error', () => {})
    s.on('goaway', () => { if (session === s) session = null })
    s.on('close', () => { if (session === s) session = null })
    session = s
    return s
  }
  const once = async (call: Call): Promise<Answer & { setCookie: string | null, unread: boolean }> => await new Promise((resolve) => {
    let s: ClientHttp2Session
    try { s = open() } catch (err) { resolve({ ...failed((err as { code?: string }).code ?? 'ERR', false), unread: true }); return }
    const headers: Record<string, string> = { ':method': call.method, ':path': call.path }
    if (call.cookie !== null) headers.cookie = call.cookie
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    let stream
    try {
      stream = s.request(headers, { endStream: call.body === undefined })
    } catch (err) {
      // the session went away between open() and request(): nothing was sent
      session = null
      resolve({ ...failed((err as { code?: string }).code ?? 'ERR', false), unread: true })
      return
    }
    if (call.body !== undefined) stream.end(JSON.stringify(call.body))
    let status = 0
    let setCookie: string | null = null
    let body = ''
    stream.setTimeout(TIMEOUT, () => stream.close(constants.NGHTTP2_CANCEL))
    stream.on('response', (h) => {
      status = Number(h[':status'])
      setCookie = cookieOf(h['set-cookie'])
    })
    stream.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
    stream.on('error', () => {})
    stream.on('close', () => {
      if (status !== 0 && stream.rstCode === constants.NGHTTP2_NO_ERROR) {
        resolve({ status, body, error: null, retried: false, setCookie, unread: false })
        return
      }
      // REFUSED_STREAM: the server did not process it (RFC 9113 §8.7), safe to send again
      const unread = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM
      resolve({ ...failed(`h2 rst ${stream.rstCode}${status === 0 ? '' : ` after ${status}`}`, false), unread })
    })
  })
  return {
    protocol: 'h2',
    send: async (call) => {
      const first = await once(call)
      if (!first.unread) return { ...first, retried: false }
      const second = await once(call)
      return { ...second, retried: true }
    },
    close: () => { session?.close() }
  }
}

/** HTTP/1.1: one keep-alive socket at a time. */
export function h1Client (origin: string): SoakClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false })
  const url = new URL(origin)
  const once = async (call: Call): Promise<Answer & { setCookie: string | null, unread: boolean }> => await new Promise((resolve) => {
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body)
    const headers: Record<string, string> = {}
    if (call.cookie !== null) headers.cookie = call.cookie
    if (payload !== undefined) headers['content-type'] = 'application/json'
    const req = httpsRequest({ host: url.hostname, port: url.port, path: call.path, method: call.method, headers, agent, timeout: TIMEOUT }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, body, error: null, retried: false, setCookie: cookieOf(res.headers['set-cookie']), unread: false }))
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ ...failed(err.code ?? 'ERR', false), unread: false }))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    // a kept-alive socket the server closed as this request went out: it was not read
    // (Node's documented case for `reusedSocket`); every browser sends such a request again
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ...failed(err.code ?? 'ERR', false), unread: req.reusedSocket && err.code === 'ECONNRESET' }))
    req.end(payload)
  })
  return {
    protocol: 'http/1.1',
    send: async (call) => {
      const first = await once(call)
      if (!first.unread) return { ...first, retried: false }
      const second = await once(call)
      return { ...second, retried: true }
    },
    close: () => { agent.destroy() }
  }
}
