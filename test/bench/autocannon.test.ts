import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { autocannonOptions, autocannonResult, type AutocannonResult } from '../../bench/lib/autocannon-pure.js'
import type { LoadRequest, Target } from '../../bench/lib/scenario.js'

// autocannon is CommonJS without types: the part used here.
const require = createRequire(import.meta.url)
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>

const BODY = '{"user":"bench"}'

/** `/missing` 404, `/echo` 200 only for a POST with `x-bench: yes` and `BODY` (else 400), anything else 200. */
function handler (req: IncomingMessage, res: ServerResponse): void {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => { body += chunk })
  req.once('end', () => {
    if (req.url === '/missing') res.statusCode = 404
    else if (req.url === '/echo') res.statusCode = req.method === 'POST' && req.headers['x-bench'] === 'yes' && body === BODY ? 200 : 400
    res.end('ok')
  })
}

const server = createServer(handler)
await new Promise<void>((resolve, reject) => {
  server.once('error', reject)
  server.listen(0, '127.0.0.1', resolve)
})
const port = (server.address() as AddressInfo).port
const target: Target = { scheme: 'http', host: '127.0.0.1', port, origin: `http://127.0.0.1:${port}` }
t.teardown(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

t.test('autocannonOptions: URL, method, headers, connections, pipelining 1, duration, timeout', async (t) => {
  const https: Target = { scheme: 'https', host: '127.0.0.1', port: 8443, origin: 'https://127.0.0.1:8443' }
  const headers = { origin: 'https://app.example' }
  const opts = autocannonOptions(https, { method: 'OPTIONS', path: '/cors', headers }, { duration: 5, connections: 10, streams: 10 })
  t.strictSame(opts, {
    url: 'https://127.0.0.1:8443/cors',
    method: 'OPTIONS',
    headers: { origin: 'https://app.example' },
    connections: 10,
    pipelining: 1,
    duration: 5,
    timeout: 10
  })
  t.equal(opts.headers, headers)
  t.notOk('body' in opts, 'no body key without a body')
})

t.test('autocannonOptions: the body when there is one', async (t) => {
  const opts = autocannonOptions(target, { method: 'POST', path: '/login', headers: {}, body: BODY }, { duration: 0.5, connections: 1, streams: 4 })
  t.strictSame(opts, {
    url: `${target.origin}/login`,
    method: 'POST',
    headers: {},
    connections: 1,
    pipelining: 1,
    duration: 0.5,
    timeout: 10,
    body: BODY
  })
})

t.test('autocannonResult: 2xx responses per second; failures = errors (timeouts included) + non-2xx', async (t) => {
  const result: AutocannonResult = {
    duration: 2,
    requests: { total: 1000, average: 500 },
    latency: { p99: 12, average: 3.5 },
    errors: 3,
    timeouts: 2,
    non2xx: 10
  }
  t.strictSame(autocannonResult(result), { rps: 495, requests: 990, failures: 13, non2xx: 10, p99Ms: 12, meanMs: 3.5 })
})

t.test('autocannonResult: NaN req/s without a duration, never a negative count', async (t) => {
  const base: AutocannonResult = { duration: 0, requests: { total: 0, average: 0 }, latency: { p99: 0, average: 0 }, errors: 0, timeouts: 0, non2xx: 0 }
  t.strictSame(autocannonResult(base), { rps: Number.NaN, requests: 0, failures: 0, non2xx: 0, p99Ms: 0, meanMs: 0 })
  t.strictSame(autocannonResult({ ...base, duration: 1, requests: { total: 5, average: 5 }, non2xx: 7 }),
    { rps: 0, requests: 0, failures: 7, non2xx: 7, p99Ms: 0, meanMs: 0 })
})

t.test('real run: autocannonOptions drive autocannon for 1 s, POST with a header and a body', async (t) => {
  const request: LoadRequest = { method: 'POST', path: '/echo', headers: { 'x-bench': 'yes', 'content-type': 'application/json' }, body: BODY }
  const raw = await autocannon(autocannonOptions(target, request, { duration: 1, connections: 2, streams: 1 }))
  // The server answers 400 unless method, header and body all arrived: no non-2xx means they did.
  t.equal(raw.non2xx, 0)
  t.equal(raw.errors, 0)
  t.equal(raw.timeouts, 0)
  t.ok(raw.requests.total > 0, 'requests completed')
  t.ok(raw.duration > 0, 'duration read')
  t.strictSame(autocannonResult(raw), {
    rps: raw.requests.total / raw.duration,
    requests: raw.requests.total,
    failures: 0,
    non2xx: 0,
    p99Ms: raw.latency.p99,
    meanMs: raw.latency.average
  })
})

t.test('real runs with a request count: exact figures for 2xx and 404 answers', async (t) => {
  const get: LoadRequest = { method: 'GET', path: '/', headers: {} }
  const params = { duration: 1, connections: 2, streams: 1 }
  // `amount` (a request count) overrides the duration; autocannon ends such a run on its next 1 s tick, so both run at once.
  const [ok, missing] = await Promise.all([
    autocannon({ ...autocannonOptions(target, get, params), amount: 20 }),
    autocannon({ ...autocannonOptions(target, { ...get, path: '/missing' }, params), amount: 20 })
  ])
  t.strictSame([ok.requests.total, ok.non2xx, ok.errors], [20, 0, 0])
  const okResult = autocannonResult(ok)
  t.strictSame([okResult.requests, okResult.failures, okResult.rps], [20, 0, 20 / ok.duration])
  t.strictSame([missing.requests.total, missing.non2xx, missing.errors], [20, 20, 0])
  t.strictSame([autocannonResult(missing).requests, autocannonResult(missing).failures, autocannonResult(missing).rps], [0, 20, 0])
})
