import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { generate } from 'selfsigned'
import t from 'tap'
import { cookieHeader, sendRequest } from '../../bench/lib/request.js'
import type { Target } from '../../bench/lib/scenario.js'

/** Answers 201 with two cookies and what it received, as JSON. */
function handler (req: IncomingMessage, res: ServerResponse): void {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => { body += chunk })
  req.once('end', () => {
    res.writeHead(201, {
      'content-type': 'application/json',
      'set-cookie': ['sid=abc123; Path=/; HttpOnly; Secure; SameSite=Lax', 'theme=dark']
    })
    res.end(JSON.stringify({ method: req.method, url: req.url, test: req.headers['x-test'] ?? null, body }))
  })
}

async function listen (server: Server | NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return (server.address() as AddressInfo).port
}
const target = (scheme: 'http' | 'https', port: number): Target => ({ scheme, host: '127.0.0.1', port, origin: `${scheme}://127.0.0.1:${port}` })

const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' })
const httpsServer = createHttpsServer({ key: pems.private, cert: pems.cert }, handler)
const httpServer = createHttpServer(handler)
// Accepts connections and never answers.
const sockets = new Set<Socket>()
const silentServer = createNetServer((socket) => {
  sockets.add(socket)
  socket.once('close', () => sockets.delete(socket))
})
const httpsTarget = target('https', await listen(httpsServer))
const httpTarget = target('http', await listen(httpServer))
const silentTarget = target('http', await listen(silentServer))
const probe = createNetServer()
const closedPort = await listen(probe)
await new Promise((resolve) => probe.close(resolve))
t.teardown(async () => {
  for (const socket of sockets) socket.destroy()
  httpsServer.closeAllConnections()
  httpServer.closeAllConnections()
  await Promise.all([httpsServer, httpServer, silentServer].map((s) => new Promise((resolve) => s.close(resolve))))
})

t.test('cookieHeader: the name=value pairs of set-cookie, joined', async (t) => {
  t.equal(cookieHeader({}), '')
  t.equal(cookieHeader({ 'set-cookie': [] }), '')
  t.equal(cookieHeader({ 'set-cookie': ['sid=abc123; Path=/; HttpOnly'] }), 'sid=abc123')
  t.equal(cookieHeader({ 'set-cookie': ['sid=abc123; Path=/; HttpOnly; Secure', ' theme=dark ;Max-Age=60', 'lang=en'] }), 'sid=abc123; theme=dark; lang=en')
})

t.test('sendRequest over TLS (self-signed certificate): method, path, headers, body; the cookies for a load', async (t) => {
  const res = await sendRequest(httpsTarget, {
    method: 'POST',
    path: '/login',
    headers: { 'content-type': 'application/json', 'x-test': 'yes' },
    body: '{"user":"bench"}'
  }, 5000)
  t.equal(res.status, 201)
  t.strictSame(JSON.parse(res.body), { method: 'POST', url: '/login', test: 'yes', body: '{"user":"bench"}' })
  t.strictSame(res.headers['set-cookie'], ['sid=abc123; Path=/; HttpOnly; Secure; SameSite=Lax', 'theme=dark'])
  t.equal(cookieHeader(res.headers), 'sid=abc123; theme=dark')
})

t.test('sendRequest over http with the defaults: GET /', async (t) => {
  const res = await sendRequest(httpTarget)
  t.equal(res.status, 201)
  t.strictSame(JSON.parse(res.body), { method: 'GET', url: '/', test: null, body: '' })
  t.equal(res.headers['content-type'], 'application/json')
})

t.test('sendRequest: a server that does not answer times out, naming the request', async (t) => {
  const message = (request: Parameters<typeof sendRequest>[1]): Promise<string> =>
    sendRequest(silentTarget, request, 100).then(() => 'answered', (err: Error) => err.message)
  t.equal(await message({}), 'GET / timed out')
  t.equal(await message({ method: 'PUT', path: '/slow' }), 'PUT /slow timed out')
})

t.test('sendRequest: a refused connection rejects with the socket error', async (t) => {
  const code = await sendRequest(target('http', closedPort)).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code)
  t.equal(code, 'ECONNREFUSED')
})
