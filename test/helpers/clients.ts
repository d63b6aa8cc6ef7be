import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { request as httpRequest, type IncomingHttpHeaders as H1Headers } from 'node:http'
import type { X509Certificate } from 'node:crypto'
import { connect as tlsConnect, type PeerCertificate, type DetailedPeerCertificate, type TLSSocket } from 'node:tls'

/** What a test client saw. */
export interface ClientResponse {
  status: number
  headers: IncomingHttpHeaders | H1Headers
  body: string
  /** The negotiated ALPN protocol (`h2`, `http/1.1`) or `false`, or `null` over plain HTTP. */
  alpn: string | false | null
  /** `2.0` for HTTP/2, `1.1` for HTTP/1.1. */
  httpVersion: string
  /** The certificate the server presented (HTTP/2 and HTTP/1.1 over TLS). */
  peer?: X509Certificate
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  /** CA certificates to trust; without it the server certificate is not verified. */
  ca?: string | string[]
  /** Server name for SNI and certificate checks. */
  servername?: string
  /** ALPN protocols offered by the HTTP/1.1 client; `[]` offers none (older clients). */
  alpn?: string[]
}

const tlsOptions = (opts: RequestOptions): { ca?: string | string[], rejectUnauthorized: boolean, servername?: string } => ({
  ...(opts.ca === undefined ? {} : { ca: opts.ca }),
  rejectUnauthorized: opts.ca !== undefined,
  ...(opts.servername === undefined ? {} : { servername: opts.servername })
})

/** One HTTP/2 request over TLS (ALPN `h2`) on a fresh session, closed afterwards. */
export async function h2Request (origin: string, path = '/', opts: RequestOptions = {}): Promise<ClientResponse> {
  const session: ClientHttp2Session = connect(origin, tlsOptions(opts))
  try {
    return await new Promise<ClientResponse>((resolve, reject) => {
      session.once('error', reject)
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: opts.method ?? 'GET',
        [constants.HTTP2_HEADER_PATH]: path,
        ...opts.headers
      })
      let body = ''
      let headers: IncomingHttpHeaders = {}
      stream.setEncoding('utf8')
      stream.once('response', (h) => { headers = h })
      stream.on('data', (chunk: string) => { body += chunk })
      stream.once('error', reject)
      // a stream closed without its end (a cut connection) fails instead of hanging
      stream.once('close', () => reject(new Error(`stream closed before its end (code ${stream.rstCode ?? 'none'})`)))
      stream.once('end', () => {
        const socket = session.socket as TLSSocket
        resolve({ status: Number(headers[':status']), headers, body, alpn: socket.alpnProtocol ?? null, httpVersion: '2.0', peer: socket.getPeerX509Certificate() })
      })
      stream.end(opts.body)
    })
  } finally {
    // a session that failed is already destroyed and never calls back from close()
    // close(callback) never calls back on a session already closing (as after a GOAWAY): wait for 'close'
    if (!session.destroyed) {
      await new Promise<void>((resolve) => {
        session.once('close', resolve)
        session.close()
      })
    }
  }
}

/** One HTTP/1.1 request over TLS (ALPN `http/1.1` unless `alpn` says otherwise), without keep-alive. */
export async function h1Request (origin: string, path = '/', opts: RequestOptions = {}): Promise<ClientResponse> {
  return await new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, origin), {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: false,
      // https.request passes TLS options through to tls.connect; its types omit ALPNProtocols
      ...{ ALPNProtocols: opts.alpn ?? ['http/1.1'] },
      ...tlsOptions(opts)
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.once('error', reject)
      res.once('aborted', () => reject(new Error('response aborted')))
      res.once('end', () => {
        const socket = res.socket as TLSSocket
        resolve({ status: res.statusCode as number, headers: res.headers, body, alpn: socket.alpnProtocol ?? false, httpVersion: res.httpVersion, peer: socket.getPeerX509Certificate() })
      })
    })
    req.once('error', reject)
    req.end(opts.body)
  })
}

/** One plain-HTTP/1.1 request, without keep-alive. */
export async function httpRequestPlain (origin: string, path = '/', opts: Omit<RequestOptions, 'ca' | 'servername'> = {}): Promise<ClientResponse> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, origin), { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.once('end', () => resolve({ status: res.statusCode as number, headers: res.headers, body, alpn: null, httpVersion: res.httpVersion }))
    })
    req.once('error', reject)
    req.end(opts.body)
  })
}

/** The certificate chain a TLS server presents, leaf first, and the negotiated protocol versions. */
export async function peerChain (port: number, host = '127.0.0.1', opts: { alpn?: string[], minVersion?: 'TLSv1' | 'TLSv1.2', maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3', ciphers?: string } = {}): Promise<{ chain: PeerCertificate[], alpn: string | false, tlsVersion: string | null }> {
  return await new Promise((resolve, reject) => {
    const socket = tlsConnect({
      port,
      host,
      rejectUnauthorized: false,
      ALPNProtocols: opts.alpn ?? ['h2', 'http/1.1'],
      ...(opts.minVersion === undefined ? {} : { minVersion: opts.minVersion }),
      ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
      ...(opts.ciphers === undefined ? {} : { ciphers: opts.ciphers })
    }, () => {
      const chain: PeerCertificate[] = []
      let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
      const seen = new Set<string>()
      while (cert !== undefined && cert.fingerprint256 !== undefined && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256)
        chain.push(cert)
        cert = cert.issuerCertificate
      }
      const result = { chain, alpn: socket.alpnProtocol ?? false, tlsVersion: socket.getProtocol() }
      socket.end()
      resolve(result)
    })
    socket.once('error', reject)
  })
}
