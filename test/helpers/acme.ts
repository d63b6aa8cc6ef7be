import { X509Certificate } from 'node:crypto'
import { connect } from 'node:http2'
import type { AcmeLogger } from '../../plugins/server/index.js'

/** One log call recorded by `recordingLogger()`. */
export interface LogLine {
  level: 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string
}

/** A logger that records every call (pino's `(obj, msg)` form). */
export function recordingLogger (): AcmeLogger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (obj: object, msg: string): void => { lines.push({ level, obj: obj as Record<string, unknown>, msg }) }
  return { lines, info: at('info'), warn: at('warn'), error: at('error') }
}

/** The leaf of a PEM chain. */
export const leafOf = (pem: string): X509Certificate => new X509Certificate(pem)

/**
 * One HTTP/2 GET over TLS to 127.0.0.1:`port`, trusting only `ca`, with SNI `servername`;
 * resolves the status, body and the server's certificate.
 */
export async function h2Get (port: number, ca: string, servername: string): Promise<{ status: number, body: string, peer: X509Certificate, alpn: string | false | null }> {
  const session = connect(`https://127.0.0.1:${port}`, { ca, servername })
  try {
    return await new Promise((resolve, reject) => {
      session.once('error', reject)
      const req = session.request({ ':path': '/' })
      let body = ''
      let status = 0
      req.setEncoding('utf8')
      req.on('response', (headers) => { status = headers[':status'] as number })
      req.on('data', (chunk: string) => { body += chunk })
      req.on('error', reject)
      req.on('end', () => {
        const socket = session.socket as import('node:tls').TLSSocket
        resolve({ status, body, peer: socket.getPeerX509Certificate() as X509Certificate, alpn: socket.alpnProtocol })
      })
      req.end()
    })
  } finally {
    session.close()
  }
}
