import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { check, normalizeRedirect, type NormalizedRedirect, type RedirectOptions } from './options.js'
import { redirectDecision } from './redirect.js'

/** Options of `httpsRedirectServer()`. */
export interface HttpsRedirectServerOptions extends RedirectOptions {
  /**
   * Port of the plain-HTTP listener; 0 picks a free one.
   * @default 80
   */
  port?: number
  /**
   * Address to listen on.
   * @default undefined (every address, IPv6 and IPv4, like `net.Server.listen()`)
   */
  host?: string
  /**
   * Called with errors of ACME lookups (the client gets a 500).
   * @default undefined (ignored)
   */
  onError?: (err: unknown) => void
}

/** A running redirect listener. */
export interface HttpsRedirectServer {
  server: Server
  /** The port it listens on (useful with `port: 0`). */
  port: number
  /** Stops listening, ends idle keep-alive connections and resolves when every connection is gone. */
  close: () => Promise<void>
}

const TEXT = 'text/plain; charset=utf-8'

function plain (res: ServerResponse, status: number, body: string, head: boolean, close: boolean): void {
  res.writeHead(status, {
    'content-type': TEXT,
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {})
  })
  res.end(head ? undefined : body)
}

/** The request listener of the redirect server (exported for `fleetHsts`-free use in a custom server). */
export function redirectListener (opts: NormalizedRedirect, onError: (err: unknown) => void = () => {}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const method = req.method as string
    const url = req.url as string
    const head = method === 'HEAD'
    const acme = opts.acme?.(method, url)
    if (acme != null) {
      acme.then((answer) => {
        if (answer.error !== undefined) onError(answer.error)
        plain(res, answer.status, answer.body, head, false)
      }, /* c8 ignore next -- answers never reject: lookup errors become 500 */ onError)
      return
    }
    const decision = redirectDecision(method, req.headers.host, url, opts, req.rawHeaders)
    if (decision.status === 400) {
      plain(res, 400, `Bad Request: ${decision.reason}\n`, head, true)
      return
    }
    res.writeHead(decision.status, { location: decision.location, 'content-length': 0 })
    res.end()
  }
}

/**
 * A small plain-HTTP listener that only redirects to HTTPS (e.g. port 80 beside 443), and answers
 * ACME HTTP-01 challenges when `acmeChallenge` is set. Hosts not in `allowedHosts` get 400;
 * a request without Host gets 400 at once. No HSTS header: it is plain HTTP (RFC 6797 §7.2).
 */
export async function httpsRedirectServer (options: HttpsRedirectServerOptions = {}): Promise<HttpsRedirectServer> {
  const { port: portIn, host: hostIn, onError: onErrorIn, ...rest } = check.object('httpsRedirectServer', options)
  const port = check.number('httpsRedirectServer.port', portIn, 80, { min: 0, max: 65535, integer: true })
  const host = hostIn === undefined ? undefined : check.string('httpsRedirectServer.host', hostIn, '')
  const onError = check.fn<((err: unknown) => void) | undefined>('httpsRedirectServer.onError', onErrorIn, undefined)
  const opts = normalizeRedirect(rest, 'httpsRedirectServer')

  // Node enforces headersTimeout and requestTimeout when it sweeps its connections, every 30 s by
  // default: sweep every second, so a client that never finishes its request goes after 5-6 s
  const server = createServer({ requireHostHeader: false, connectionsCheckingInterval: 1000 }, redirectListener(opts, onError))
  // a redirect is one small answer: slow or idle clients are dropped quickly
  server.headersTimeout = 5000
  server.requestTimeout = 10000
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
      // answers are immediate; whatever is still open after a second is a stuck client
      setTimeout(() => server.closeAllConnections(), 1000).unref()
    })
  }
}
