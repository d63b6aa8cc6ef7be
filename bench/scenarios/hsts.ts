// A GET route with fleetHsts against the same route with @fastify/helmet (defaults, and HSTS only)
// and against the bare route (hello-fleet), over HTTP/2 and the HTTP/1.1 fallback; a last anchor,
// the bare route sending the same header fixed in the route, is the floor of sending it at all.
// The Host is a real name: fleetHsts sends no header for IP literals such as 127.0.0.1. `prepare`
// checks once per server, over the scenario's protocol, that the header is sent (and that the bare
// route sends none).
import { connect } from 'node:http2'
import { sendRequest } from '../lib/request.js'
import { defineScenarios, type AnchorEntry, type LoadRequest, type Scenario, type ServerEntry, type Target } from '../lib/scenario.js'

const server = (file: string): URL => new URL(`../servers/${file}`, import.meta.url)
const HOST = 'app.example.com'
const BARE = 'bare route'
const fleet: ServerEntry = { module: server('hsts-fleet.js') }
const anchors: [AnchorEntry, ...AnchorEntry[]] = [
  { label: BARE, module: server('hello-fleet.js'), goal: 0.97 },
  { label: '@fastify/helmet', module: server('hsts-helmet.js') },
  { label: '@fastify/helmet, HSTS only', module: server('hsts-helmet-only.js') },
  { label: 'bare route sending the same header fixed (the floor of sending HSTS)', module: server('hsts-bare-header.js') }
]

/** The status and `strict-transport-security` header of one HTTP/2 request (self-signed certificate accepted). */
async function h2Answer (target: Target, request: LoadRequest): Promise<{ status: number, hsts: unknown }> {
  const session = connect(target.origin, { rejectUnauthorized: false })
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ':method': request.method, ':path': request.path, ...request.headers })
      req.once('response', (headers) => { resolve({ status: Number(headers[':status']), hsts: headers['strict-transport-security'] }) })
      req.once('error', reject)
      req.resume()
      req.end()
    })
  } finally {
    session.close()
  }
}

/** Throws unless the server answers 200 with the header, or without it for the bare route. */
const check = (protocol: 'h1' | 'h2'): Scenario['prepare'] => async (target, request, label) => {
  const answer = protocol === 'h2'
    ? await h2Answer(target, request)
    : await sendRequest(target, request).then((res) => ({ status: res.status, hsts: res.headers['strict-transport-security'] }))
  const want = label === BARE ? 'no strict-transport-security' : 'strict-transport-security'
  if (answer.status !== 200 || (label === BARE) !== (answer.hsts === undefined)) {
    throw new Error(`${label} answered ${answer.status} with strict-transport-security ${String(answer.hsts)}, expected 200 with ${want}`)
  }
  return {}
}

export default defineScenarios([
  { name: 'HSTS, HTTP/2 (h2load)', protocol: 'h2', fleet, anchors, request: { headers: { ':authority': HOST } }, prepare: check('h2') },
  { name: 'HSTS, HTTP/1.1 TLS (autocannon)', protocol: 'h1', fleet, anchors, request: { headers: { host: HOST } }, prepare: check('h1') }
])
