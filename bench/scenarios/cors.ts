// fastify-fleet/cors (fleetCors) against @fastify/cors with the same options, and against the same
// routes without CORS (the bare route; its `OPTIONS /api/items` answers 204 with no headers, and,
// for the cached preflight and the simple GET, with the same headers fixed in the route: the floor
// of any answer a browser accepts): a simple GET with an allowed origin, and a preflight that
// fleetCors answers from its preflight cache (a static origin list: every answer after the first is
// cached). Every cors-* server declares the same routes (`GET`/`PUT /api/items`, `GET /bench/setup`,
// see servers/cors-shared.ts). `prepare` checks once
// per server that it answers the scenario's request as a CORS server of its kind must (a preflight
// that fails fast would make the comparison meaningless) and throws otherwise.
import { sendRequest } from '../lib/request.js'
import { defineScenarios, type AnchorEntry, type LoadRequest, type Scenario, type ServerEntry, type Target } from '../lib/scenario.js'
import { CORS_SETUPS, type CorsSetup } from '../servers/cors-shared.js'

const server = (file: string): URL => new URL(`../servers/${file}`, import.meta.url)
const ORIGIN = 'https://app.example.com'

const preflight: Partial<LoadRequest> = {
  method: 'OPTIONS',
  path: '/api/items',
  headers: {
    origin: ORIGIN,
    'access-control-request-method': 'PUT',
    'access-control-request-headers': 'content-type, x-request-id'
  }
}
const simpleGet: Partial<LoadRequest> = { method: 'GET', path: '/api/items', headers: { origin: ORIGIN } }

/** Which CORS setup the server at `target` has (`GET /bench/setup`). */
async function setupOf (target: Target): Promise<CorsSetup> {
  const res = await sendRequest(target, { path: '/bench/setup' })
  const setup = (JSON.parse(res.body) as { cors?: unknown }).cors
  if (res.status !== 200 || !(CORS_SETUPS as readonly unknown[]).includes(setup)) {
    throw new Error(`${target.origin}/bench/setup answered ${res.status} ${res.body}`)
  }
  return setup as CorsSetup
}

/**
 * Sends the scenario's request once and checks the answer: a CORS server allows the origin
 * (echoed, with credentials; on a preflight 204 with the requested method and headers), the bare
 * server answers without CORS headers (200; 204 to a preflight). Throws with what came back otherwise.
 */
async function check (target: Target, request: LoadRequest): Promise<Partial<LoadRequest>> {
  const setup = await setupOf(target)
  const res = await sendRequest(target, request)
  const h = res.headers
  const problems: string[] = []
  const expect = (what: string, ok: boolean): void => { if (!ok) problems.push(what) }
  if (setup === 'none') {
    expect(`status ${request.method === 'OPTIONS' ? 204 : 200}`, res.status === (request.method === 'OPTIONS' ? 204 : 200))
    expect('no access-control-allow-origin', h['access-control-allow-origin'] === undefined)
  } else if (request.method === 'OPTIONS') {
    expect('status 204', res.status === 204)
    expect(`access-control-allow-origin: ${ORIGIN}`, h['access-control-allow-origin'] === ORIGIN)
    expect('access-control-allow-credentials: true', h['access-control-allow-credentials'] === 'true')
    expect('access-control-allow-methods with PUT', /\bPUT\b/.test(String(h['access-control-allow-methods'])))
    const allowHeaders = String(h['access-control-allow-headers']).toLowerCase()
    expect('access-control-allow-headers with content-type, x-request-id', allowHeaders.includes('content-type') && allowHeaders.includes('x-request-id'))
  } else {
    expect('status 200', res.status === 200)
    expect(`access-control-allow-origin: ${ORIGIN}`, h['access-control-allow-origin'] === ORIGIN)
    expect('access-control-allow-credentials: true', h['access-control-allow-credentials'] === 'true')
  }
  if (problems.length > 0) {
    const got = Object.entries(h).filter(([k]) => k.startsWith('access-control-') || k === 'vary').map(([k, v]) => `${k}: ${String(v)}`)
    throw new Error(`${setup} server answered ${request.method} ${request.path} with ${res.status} [${got.join('; ')}], expected ${problems.join(', ')}`)
  }
  return {}
}

const fleetAsync: ServerEntry = { module: server('cors-fleet-async.js') }
const anchorAsync: [AnchorEntry] = [{ label: '@fastify/cors', module: server('cors-anchor-async.js'), goal: 5 }]
const fleetStatic: ServerEntry = { module: server('cors-fleet-static.js') }
const anchorStatic = (goal?: number): AnchorEntry => ({ label: '@fastify/cors', module: server('cors-anchor-static.js'), ...(goal === undefined ? {} : { goal }) })
const bare = (label: string, goal: number): AnchorEntry => ({ label, module: server('cors-bare.js'), goal })
const asyncNotes = 'origin: async 2 ms lookup, pool of 10'

const scenarios: Scenario[] = [
  { name: 'CORS preflight, async origin lookup (2 ms), HTTP/1.1 TLS', protocol: 'h1', request: preflight, prepare: check, fleet: fleetAsync, anchors: anchorAsync, notes: asyncNotes },
  { name: 'CORS preflight, async origin lookup (2 ms), HTTP/2', protocol: 'h2', request: preflight, prepare: check, fleet: fleetAsync, anchors: anchorAsync, notes: asyncNotes },
  {
    name: 'CORS preflight (cached), static origin list, HTTP/1.1 TLS',
    protocol: 'h1',
    request: preflight,
    prepare: check,
    fleet: fleetStatic,
    anchors: [
      anchorStatic(1.0),
      bare('bare route answering 204 to OPTIONS', 0.9),
      { label: 'bare route answering 204 with the same six headers fixed (the floor of a preflight answer)', module: server('cors-bare-headers.js') }
    ]
  },
  {
    name: 'CORS simple GET, static origin list, HTTP/1.1 TLS',
    protocol: 'h1',
    request: simpleGet,
    prepare: check,
    fleet: fleetStatic,
    anchors: [
      bare('bare route', 0.97),
      anchorStatic(),
      { label: 'bare route sending the same three headers fixed (the floor of an answer a browser accepts)', module: server('cors-bare-headers.js') }
    ]
  }
]

export default defineScenarios(scenarios)
