import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Interim HTTP→HTTPS redirect listener of the demo, until `httpsRedirectServer` of
 * fastify-fleet/hsts lands: redirects only to hosts in `allowedHosts` (names and `*.example.com`), 301 for GET/HEAD and
 * 308 otherwise, 400 for a missing or foreign Host.
 */
export async function startRedirect (opts: { port: number, host: string, httpsPort: number, allowedHosts: string[] }): Promise<{ port: number, close: () => Promise<void> }> {
  const exact = new Set(opts.allowedHosts.filter((h) => !h.startsWith('*.')))
  const suffixes = opts.allowedHosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1))
  const allowed = (name: string): boolean => exact.has(name) || suffixes.some((s) => name.endsWith(s) && name.length > s.length)
  const server: Server = createServer((req, res) => {
    let hostname: string | null = null
    try {
      // parse Host as an authority only: userinfo or a path in it makes it foreign
      const raw = req.headers.host ?? ''
      const url = new URL(`http://${raw}`)
      if (raw !== '' && url.host === raw.toLowerCase() && url.username === '' && url.pathname === '/') {
        hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
      }
    } catch {}
    if (hostname === null || !allowed(hostname)) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('Bad Request: unknown host\n')
      return
    }
    // origin-form targets only: `//evil.com/` or `http://evil.com/` become `/`
    const target = String(req.url)
    const path = target.startsWith('/') && !target.startsWith('//') ? target : '/'
    const authority = (hostname.includes(':') ? `[${hostname}]` : hostname) + (opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`)
    const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308
    res.writeHead(status, { location: `https://${authority}${path}`, 'content-length': 0, connection: 'close' }).end()
  })
  server.requestTimeout = 5000
  server.headersTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, resolve)
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
