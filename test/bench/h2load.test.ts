import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import {
  createSecureServer, createServer, type Http2SecureServer, type Http2Server, type Http2ServerRequest,
  type Http2ServerResponse, type ServerHttp2Session
} from 'node:http2'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { generate } from 'selfsigned'
import t from 'tap'
import { h2loadArgs, h2loadResult, parseH2loadDuration, parseH2loadOutput, type H2loadSummary } from '../../bench/lib/h2load-pure.js'
import type { LoadRequest } from '../../bench/lib/scenario.js'
import { requireH2load } from '../helpers/drain-h2load.js'
import { errorOf } from '../helpers/errors.js'

// The fixtures are h2load 1.52 (nghttp2-client) output captured from real runs; see fixtures/README.md.
const fixture = (name: string): Promise<string> => readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

/** The name and message of what `fn` throws, to compare exactly. */

const NO_SUMMARY = 'h2load output has no summary ("finished in …" / "requests: …" lines)'
const BODY = '{"user":"bench"}'

/** `/` 200, `/missing` 404, `/moved` 301, `/echo` 200 only for a POST with `x-bench: yes` and `BODY`, else 400. */
function handler (req: Http2ServerRequest, res: Http2ServerResponse): void {
  if (req.url === '/missing') {
    res.writeHead(404).end('missing')
  } else if (req.url === '/moved') {
    res.writeHead(301, { location: '/' }).end()
  } else if (req.url === '/echo') {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.once('end', () => {
      const ok = req.method === 'POST' && req.headers['x-bench'] === 'yes' && body === BODY
      res.writeHead(ok ? 200 : 400).end()
    })
  } else {
    res.end('hello')
  }
}

const sessions = new Set<ServerHttp2Session>()
async function listen (server: Http2SecureServer | Http2Server): Promise<number> {
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return (server.address() as AddressInfo).port
}
const close = (server: Http2SecureServer | Http2Server): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()))

const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' })
const tlsServer = createSecureServer({ key: pems.private, cert: pems.cert }, handler)
const h2cServer = createServer(handler)
const tlsOrigin = `https://127.0.0.1:${await listen(tlsServer)}`
const h2cOrigin = `http://127.0.0.1:${await listen(h2cServer)}`
t.teardown(async () => {
  for (const session of sessions) session.destroy()
  await Promise.all([close(tlsServer), close(h2cServer)])
})

/** Runs h2load (bounded: killed after 10 s) and resolves with its stdout. */
function h2load (args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout: 10_000, killSignal: 'SIGKILL' }, (err, stdout) => {
      if (err === null) resolve(stdout)
      else reject(err)
    })
  })
}

const summary = (fields: {
  elapsedMs: number
  rps: number
  requests: [number, number, number, number, number, number, number]
  status: [number, number, number, number]
  meanMs: number
  protocol: string | undefined
}): H2loadSummary => {
  const [total, started, done, succeeded, failed, errored, timeout] = fields.requests
  const [s2, s3, s4, s5] = fields.status
  return {
    elapsedMs: fields.elapsedMs,
    rps: fields.rps,
    requests: { total, started, done, succeeded, failed, errored, timeout },
    status: { '2xx': s2, '3xx': s3, '4xx': s4, '5xx': s5 },
    meanMs: fields.meanMs,
    protocol: fields.protocol
  }
}

t.test('parseH2loadDuration: h2load units in milliseconds', async (t) => {
  t.equal(parseH2loadDuration('783us'), 0.783)
  t.equal(parseH2loadDuration('958us'), 0.958)
  t.equal(parseH2loadDuration('0us'), 0)
  t.equal(parseH2loadDuration('5.01ms'), 5.01)
  t.equal(parseH2loadDuration('801.57ms'), 801.57)
  t.equal(parseH2loadDuration('3.01s'), 3010)
  t.equal(parseH2loadDuration('2m'), 120_000)
  t.equal(parseH2loadDuration('1h'), 3_600_000)
  t.equal(parseH2loadDuration(' 12ms\n'), 12)
})

t.test('parseH2loadDuration: NaN when the text is not a duration', async (t) => {
  for (const text of ['', 'ms', '5', '5 ms', '-1ms', '1.ms', '.5s', '5.01ks', '1e3ms', '5ms5']) {
    t.strictSame(parseH2loadDuration(text), Number.NaN, JSON.stringify(text))
  }
})

t.test('fixture: a normal timed run', async (t) => {
  const parsed = parseH2loadOutput(await fixture('h2load-normal.txt'))
  t.strictSame(parsed, summary({
    elapsedMs: 1000,
    rps: 18760,
    requests: [18760, 18780, 18760, 18760, 0, 0, 0],
    status: [18760, 0, 0, 0],
    meanMs: 1.01,
    protocol: 'h2'
  }))
  t.strictSame(h2loadResult(parsed), { rps: 18760, requests: 18760, failures: 0, non2xx: 0, p99Ms: Number.NaN, meanMs: 1.01, protocol: 'h2' })
})

t.test('fixture: every response a 404 counts each failed request once', async (t) => {
  // h2load's `failed` already holds the 4xx responses (and 20 more 4xx statuses arrived on streams still open at the end).
  const parsed = parseH2loadOutput(await fixture('h2load-404.txt'))
  t.strictSame(parsed, summary({
    elapsedMs: 1000,
    rps: 20340,
    requests: [20340, 20360, 20340, 0, 20340, 0, 0],
    status: [0, 0, 20360, 0],
    meanMs: 0.958,
    protocol: 'h2'
  }))
  t.strictSame(h2loadResult(parsed), { rps: 0, requests: 0, failures: 20340, non2xx: 20340, p99Ms: Number.NaN, meanMs: 0.958, protocol: 'h2' })
})

t.test('fixture: warm-up, where fewer 2xx statuses than succeeded requests are counted', async (t) => {
  // Streams whose status arrived during the warm-up but which closed in the measured time count as
  // succeeded without a 2xx: they are not failures.
  const parsed = parseH2loadOutput(await fixture('h2load-warm-up.txt'))
  t.strictSame(parsed, summary({
    elapsedMs: 801.57,
    rps: 31100,
    requests: [15550, 15550, 15550, 15550, 0, 0, 0],
    status: [15400, 0, 0, 0],
    meanMs: 6.43,
    protocol: 'h2'
  }))
  t.strictSame(h2loadResult(parsed), { rps: 31100, requests: 15550, failures: 0, non2xx: 0, p99Ms: Number.NaN, meanMs: 6.43, protocol: 'h2' })
})

t.test('fixture: h2c over http: reports its protocol', async (t) => {
  const parsed = parseH2loadOutput(await fixture('h2load-h2c.txt'))
  t.strictSame(parsed, summary({
    elapsedMs: 1000,
    rps: 14000,
    requests: [14000, 14020, 14000, 14000, 0, 0, 0],
    status: [14000, 0, 0, 0],
    meanMs: 1.42,
    protocol: 'h2c'
  }))
  t.equal(h2loadResult(parsed).protocol, 'h2c')
})

t.test('fixture: a closed port parses to zeros, and h2loadResult refuses to call it a measurement', async (t) => {
  const parsed = parseH2loadOutput(await fixture('h2load-closed-port.txt'))
  t.strictSame(parsed, summary({
    elapsedMs: 1000,
    rps: 0,
    requests: [0, 0, 0, 0, 0, 0, 0],
    status: [0, 0, 0, 0],
    meanMs: 0,
    protocol: undefined
  }))
  t.strictSame(errorOf(() => h2loadResult(parsed)), {
    name: 'Error',
    message: 'h2load completed no request (0 started): no connection to the server, or no response within the duration'
  })
})

t.test('fixture: a run killed before its summary throws', async (t) => {
  const text = await fixture('h2load-killed.txt')
  t.match(text, /^Application protocol: h2$/m)
  t.strictSame(errorOf(() => parseH2loadOutput(text)), { name: 'Error', message: NO_SUMMARY })
  t.strictSame(errorOf(() => parseH2loadOutput('')), { name: 'Error', message: NO_SUMMARY })
})

t.test('parseH2loadOutput: both summary lines are required, the others are optional', async (t) => {
  const lines = (await fixture('h2load-normal.txt')).split('\n')
  const without = (...prefixes: string[]): string => lines.filter((l) => !prefixes.some((p) => l.startsWith(p))).join('\n')
  t.strictSame(errorOf(() => parseH2loadOutput(without('finished in'))), { name: 'Error', message: NO_SUMMARY })
  t.strictSame(errorOf(() => parseH2loadOutput(without('requests:'))), { name: 'Error', message: NO_SUMMARY })
  t.strictSame(parseH2loadOutput(without('status codes:', 'time for request:', 'Application protocol:')), summary({
    elapsedMs: 1000,
    rps: 18760,
    requests: [18760, 18780, 18760, 18760, 0, 0, 0],
    status: [0, 0, 0, 0],
    meanMs: Number.NaN,
    protocol: undefined
  }))
})

t.test('h2loadResult: failures = failed (errors, timeouts, 4xx, 5xx) + 3xx; p99 unknown', async (t) => {
  const parsed = summary({
    elapsedMs: 2000,
    rps: 1234.5,
    // 3 errored (1 of them timed out) + 4 responses 5xx = 7 failed; 90 succeeded of which 5 are 3xx.
    requests: [97, 97, 97, 90, 7, 3, 1],
    status: [85, 5, 0, 4],
    meanMs: 2.5,
    protocol: 'http/1.1'
  })
  t.strictSame(h2loadResult(parsed), { rps: 1234.5 * 85 / 97, requests: 90, failures: 12, non2xx: 9, p99Ms: Number.NaN, meanMs: 2.5, protocol: 'http/1.1' })
})

t.test('h2loadArgs: timed (-D in ms, no -n), one thread', async (t) => {
  const get: LoadRequest = { method: 'GET', path: '/', headers: {} }
  const args = h2loadArgs('https://127.0.0.1:8443/', get, { duration: 5, connections: 10, streams: 10 })
  t.strictSame(args, ['-c', '10', '-m', '10', '-t', '1', '-D', '5000ms', 'https://127.0.0.1:8443/'])
  t.notOk(args.includes('-n'))
  t.strictSame(h2loadArgs('u', get, { duration: 0.5, connections: 1, streams: 100 }), ['-c', '1', '-m', '100', '-t', '1', '-D', '500ms', 'u'])
  t.strictSame(h2loadArgs('u', get, { duration: 2.5, connections: 3, streams: 2 }).slice(6, 8), ['-D', '2500ms'])
  t.strictSame(h2loadArgs('u', get, { duration: 0.0001, connections: 1, streams: 1 }).slice(6, 8), ['-D', '1ms'])
})

t.test('h2loadArgs: method as a :method header, headers, body file', async (t) => {
  const params = { duration: 1, connections: 2, streams: 3 }
  const base = ['-c', '2', '-m', '3', '-t', '1', '-D', '1000ms']
  t.strictSame(h2loadArgs('u', { method: 'OPTIONS', path: '/', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } }, params),
    [...base, '-H', ':method: OPTIONS', '-H', 'origin: https://app.example', '-H', 'access-control-request-method: PUT', 'u'])
  t.strictSame(h2loadArgs('u', { method: 'POST', path: '/login', headers: { 'content-type': 'application/json' }, body: BODY }, params, '/tmp/x/body'),
    [...base, '-H', ':method: POST', '-H', 'content-type: application/json', '-d', '/tmp/x/body', 'u'])
  // `-d` alone would make h2load send a POST: a GET with a body says so.
  t.strictSame(h2loadArgs('u', { method: 'GET', path: '/', headers: { cookie: 'sid=1' }, body: 'x' }, params, 'b'),
    [...base, '-H', ':method: GET', '-H', 'cookie: sid=1', '-d', 'b', 'u'])
})

t.test('real run: h2loadArgs drive h2load for 1 s, POST with a header and a body file', async (t) => {
  if (!await requireH2load(t)) return
  const dir = t.testdir({ body: BODY })
  const bodyFile = join(dir, 'body')
  const request: LoadRequest = { method: 'POST', path: '/echo', headers: { 'x-bench': 'yes' }, body: BODY }
  const url = `${tlsOrigin}${request.path}`
  const args = h2loadArgs(url, request, { duration: 1, connections: 2, streams: 4 }, bodyFile)
  t.strictSame(args, ['-c', '2', '-m', '4', '-t', '1', '-D', '1000ms', '-H', ':method: POST', '-H', 'x-bench: yes', '-d', bodyFile, url])
  const parsed = parseH2loadOutput(await h2load(args))
  // The server answers 400 unless method, header and body all arrived: no failure means they did.
  t.equal(parsed.protocol, 'h2')
  t.equal(parsed.requests.failed, 0)
  t.equal(parsed.requests.errored, 0)
  t.equal(parsed.requests.timeout, 0)
  t.strictSame([parsed.status['3xx'], parsed.status['4xx'], parsed.status['5xx']], [0, 0, 0])
  t.equal(parsed.requests.done, parsed.requests.succeeded)
  t.ok(parsed.requests.succeeded > 0, 'requests succeeded')
  t.ok(parsed.status['2xx'] > 0, '2xx counted')
  t.ok(parsed.rps > 0, 'req/s read')
  t.ok(parsed.meanMs > 0, 'mean time per request read')
  t.ok(parsed.elapsedMs > 0, 'elapsed time read')
  t.strictSame(h2loadResult(parsed), {
    rps: parsed.rps, requests: parsed.requests.succeeded, failures: 0, non2xx: 0, p99Ms: Number.NaN, meanMs: parsed.meanMs, protocol: 'h2'
  })
})

t.test('real runs with a request count: exact figures for 2xx, 4xx and 3xx answers', async (t) => {
  if (!await requireH2load(t)) return
  const cases: Array<[string, H2loadSummary['requests'], H2loadSummary['status'], number]> = [
    ['/', { total: 20, started: 20, done: 20, succeeded: 20, failed: 0, errored: 0, timeout: 0 }, { '2xx': 20, '3xx': 0, '4xx': 0, '5xx': 0 }, 0],
    ['/missing', { total: 20, started: 20, done: 20, succeeded: 0, failed: 20, errored: 0, timeout: 0 }, { '2xx': 0, '3xx': 0, '4xx': 20, '5xx': 0 }, 20],
    ['/moved', { total: 20, started: 20, done: 20, succeeded: 20, failed: 0, errored: 0, timeout: 0 }, { '2xx': 0, '3xx': 20, '4xx': 0, '5xx': 0 }, 20]
  ]
  for (const [path, requests, status, failures] of cases) {
    const parsed = parseH2loadOutput(await h2load(['-n', '20', '-c', '2', '-m', '2', '-t', '1', `${tlsOrigin}${path}`]))
    t.strictSame(parsed.requests, requests, `${path} requests`)
    t.strictSame(parsed.status, status, `${path} status codes`)
    t.equal(parsed.protocol, 'h2', `${path} protocol`)
    const result = h2loadResult(parsed)
    t.equal(result.failures, failures, `${path} failures`)
    t.equal(result.requests, requests.succeeded, `${path} successful requests`)
  }
})

t.test('real run over http: h2c with prior knowledge', async (t) => {
  if (!await requireH2load(t)) return
  const parsed = parseH2loadOutput(await h2load(['-n', '10', '-c', '1', '-m', '1', '-t', '1', `${h2cOrigin}/`]))
  t.equal(parsed.protocol, 'h2c')
  t.strictSame(parsed.requests, { total: 10, started: 10, done: 10, succeeded: 10, failed: 0, errored: 0, timeout: 0 })
  t.equal(h2loadResult(parsed).failures, 0)
})

t.test('real run against a closed port: nothing measured', async (t) => {
  if (!await requireH2load(t)) return
  const probe = createServer()
  const port = await listen(probe)
  await close(probe)
  const get: LoadRequest = { method: 'GET', path: '/', headers: {} }
  const parsed = parseH2loadOutput(await h2load(h2loadArgs(`https://127.0.0.1:${port}/`, get, { duration: 0.3, connections: 2, streams: 1 })))
  t.strictSame(parsed.requests, { total: 0, started: 0, done: 0, succeeded: 0, failed: 0, errored: 0, timeout: 0 })
  t.equal(parsed.protocol, undefined)
  t.strictSame(errorOf(() => h2loadResult(parsed)), {
    name: 'Error',
    message: 'h2load completed no request (0 started): no connection to the server, or no response within the duration'
  })
})
