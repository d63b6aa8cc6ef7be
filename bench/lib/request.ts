import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LoadRequest, Target } from './scenario.js'

export interface SimpleResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/**
 * One HTTP/1.1 request to a bench server, for a scenario's `prepare()` hook (log in, read a cookie...).
 * The self-signed dev certificate is accepted; the request times out after `timeoutMs`.
 */
export function sendRequest (target: Target, request: Partial<LoadRequest> = {}, timeoutMs = 10_000): Promise<SimpleResponse> {
  const send = target.scheme === 'https' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send({
      host: target.host,
      port: target.port,
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      headers: request.headers ?? {},
      rejectUnauthorized: false,
      timeout: timeoutMs
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      // A client response always has its status code (`statusCode` is optional for server-side requests only).
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      res.once('error', reject)
    })
    req.once('timeout', () => req.destroy(new Error(`${request.method ?? 'GET'} ${request.path ?? '/'} timed out`)))
    req.once('error', reject)
    req.end(request.body)
  })
}

/** The `name=value` pairs of a response's `set-cookie` headers, joined for a `cookie` request header. */
export function cookieHeader (headers: IncomingHttpHeaders): string {
  return (headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!.trim()).join('; ')
}
