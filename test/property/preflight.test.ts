import fastify from 'fastify'
import fc from 'fast-check'
import { test } from 'tap'
import { fleetCors, type FleetCorsOptions } from '../../plugins/cors/index.js'
import { preflightAnswer, REFUSAL, type PreflightRequest } from '../../plugins/cors/preflight.js'
import { anyText, corsPolicy, headerText, holds, hostVariant } from '../helpers/property.js'

const APP = 'https://app.example.com'
const ALLOWED_HEADERS = ['x-token', 'content-type']
const LISTED: FleetCorsOptions = { origin: [APP], methods: ['GET', 'PUT'], allowedHeaders: ALLOWED_HEADERS, credentials: true, maxAge: 600 }
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/
/** Header values an answer may carry: visible ASCII and spaces, nothing that splits a header. */
const VALUE = /^[\x20-\x7e]*$/

const name = fc.oneof(
  fc.constantFrom('x-token', 'X-Token', 'content-type', 'Content-Type', 'authorization', 'x-evil', 'cookie', '*', '', ' ', 'x-token\r\nx-evil: 1', 'x-tok\u0435n', 'x-\u212aey'),
  fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}$/),
  anyText(12)
)
/** `Access-Control-Request-Headers` as clients (and attackers) write it: lists with odd separators and spaces. */
const requested = fc.oneof(
  { weight: 3, arbitrary: fc.subarray(['x-token', 'Content-Type', 'X-TOKEN', ' content-type ', '']).map((names) => names.join(',')) },
  fc.array(fc.tuple(name, fc.constantFrom(',', ', ', ' ,', ',,', ', \t', ';')), { maxLength: 6 }).map((parts) => parts.map(([n, sep]) => n + sep).join('')),
  anyText(60)
)
const method = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'put') }, fc.constantFrom('GET', 'get', 'PUT', 'Put', 'POST', 'DELETE', 'GET ', 'PUT\r\n', '\u00dfET', 'CONSTRUCTOR', '__proto__'), anyText(10))
const ask = fc.record({ origin: fc.constantFrom(APP), method, headers: requested, privateNetwork: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)) })

/** The names a request asks for, as the Fetch standard splits them. */
const namesOf = (headers: string): string[] => headers.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '')

test('preflightAnswer: any request headers and method give a refusal or a grant of listed names only', async (t) => {
  const listed = corsPolicy(LISTED)
  const counts = { granted: 0, refused: 0 }
  await holds(t, 'listed names only', fc.property(ask, (request: PreflightRequest) => {
    const answer = preflightAnswer(listed, request, { allow: true, value: APP })
    if (answer === REFUSAL) {
      counts.refused++
      return true
    }
    counts.granted++
    const names = namesOf(request.headers)
    return answer.status === 204 && ['GET', 'PUT'].includes(request.method.toUpperCase()) && !request.privateNetwork &&
      names.every((n) => ALLOWED_HEADERS.includes(n)) && answer.headers['access-control-allow-headers'] === 'x-token, content-type' &&
      answer.headers['access-control-allow-origin'] === APP && Object.values(answer.headers).every((v) => VALUE.test(v))
  }), 4000, [[{ origin: APP, method: 'GET', headers: 'x-token, x-evil', privateNetwork: false }]])
  t.ok(counts.granted > 200 && counts.refused > 200, `both outcomes exercised (${counts.granted} granted, ${counts.refused} refused)`)
})

test('preflightAnswer: reflected headers are the requested tokens, lower-cased, and nothing else', async (t) => {
  const reflect = corsPolicy({ origin: [APP] })
  let granted = 0
  await holds(t, 'tokens only', fc.property(ask, (request: PreflightRequest) => {
    const answer = preflightAnswer(reflect, request, { allow: true, value: APP })
    const names = namesOf(request.headers)
    const tokens = names.every((n) => TOKEN.test(n))
    if (answer === REFUSAL) return !tokens || !['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'].includes(request.method.toUpperCase()) || request.privateNetwork
    granted++
    const reflected = answer.headers['access-control-allow-headers']
    return tokens && (reflected ?? '') === names.join(', ') && Object.values(answer.headers).every((v) => VALUE.test(v))
  }), 4000, [[{ origin: APP, method: 'GET', headers: 'x-a\r\nset-cookie: a=b', privateNetwork: false }]])
  t.ok(granted > 200, `grants exercised (${granted})`)
})

test('preflightAnswer: a refused origin is refused whatever else the preflight asks', async (t) => {
  const policies = [corsPolicy(LISTED), corsPolicy({ origin: [APP], allowedHeaders: '*', methods: '*' })]
  await holds(t, 'refusal', fc.property(ask, fc.constantFrom(...policies), (request: PreflightRequest, policy) =>
    preflightAnswer(policy, request, { allow: false }) === REFUSAL
  ), 1000)
})

test('fleetCors preflights through a Fastify app: 204 only for the allowed origin, method and headers; the cache changes no answer', async (t) => {
  const app = fastify()
  await app.register(fleetCors, LISTED)
  app.get('/items', async () => 'items')
  app.put('/items', async () => 'put')
  t.teardown(() => app.close())
  await app.ready()
  const wire = (text: fc.Arbitrary<string>): fc.Arbitrary<string> => text.filter((v) => /^[\x20-\x7e\x80-\xff]*$/.test(v) && v.trim() === v)
  const origin = fc.oneof({ weight: 2, arbitrary: fc.constant(APP) }, wire(hostVariant('app.example.com').map((h) => `https://${h}`)))
  const counts = { granted: 0, refused: 0 }
  await holds(t, 'allowed preflights only', fc.asyncProperty(origin, wire(method), fc.oneof(wire(requested), headerText(40)), async (o, m, headers) => {
    const res = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: o, 'access-control-request-method': m, 'access-control-request-headers': headers } })
    const allowHeaders = res.headers['access-control-allow-headers']
    if (res.statusCode === 403) {
      counts.refused++
      return allowHeaders === undefined && res.headers['access-control-allow-origin'] === undefined && res.headers['access-control-allow-methods'] === undefined
    }
    counts.granted++
    return res.statusCode === 204 && o === APP && ['GET', 'PUT'].includes(m.toUpperCase()) &&
      namesOf(headers).every((n) => ALLOWED_HEADERS.includes(n)) && allowHeaders === 'x-token, content-type' &&
      res.headers['access-control-allow-origin'] === APP && res.headers['access-control-allow-methods'] === 'GET, PUT'
  }), 400, [[APP, 'PUT', 'X-Token,Content-Type'], [APP, 'put', ' x-token , , '], ['https://APP.example.com', 'GET', '']])
  t.ok(counts.granted > 20 && counts.refused > 20, `both outcomes exercised (${counts.granted} granted, ${counts.refused} refused)`)
  const { hits } = app.corsCache.stats().preflight
  t.ok(hits > 20, `answers from the preflight cache were checked too (${hits} hits)`)
})
