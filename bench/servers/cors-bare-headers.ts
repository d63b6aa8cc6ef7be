// anchor: the same routes as the CORS servers, without any CORS plugin; `OPTIONS /api/items` answers
// 204 with the headers fleetCors sends for the scenario's preflight, and `GET /api/items` sends the
// three fleetCors sends on the simple GET, each fixed in the route. The least a server can do for an
// answer a browser accepts: route it, and send those headers.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'
import { ALLOWED_ORIGINS, COMMON_OPTIONS, routes } from './cors-shared.js'

// what fleetCors answers the scenario's preflight (Origin: the first allowed origin) with
const PREFLIGHT_HEADERS = {
  'access-control-allow-origin': ALLOWED_ORIGINS[0],
  'access-control-allow-methods': COMMON_OPTIONS.methods.join(', '),
  vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  'access-control-allow-credentials': 'true',
  'access-control-allow-headers': COMMON_OPTIONS.allowedHeaders.join(', '),
  'access-control-max-age': String(COMMON_OPTIONS.maxAge)
}

// what fleetCors sends with the scenario's simple GET (Origin: the first allowed origin)
const SIMPLE_GET_HEADERS = {
  vary: 'Origin',
  'access-control-allow-origin': ALLOWED_ORIGINS[0] as string,
  'access-control-allow-credentials': 'true'
}

const app = fastify({ ...await serverOptions(), logger: false })
routes(app, 'fixed headers', SIMPLE_GET_HEADERS)
app.options('/api/items', async (request, reply) => await reply.code(204).headers(PREFLIGHT_HEADERS).send())
await serve(app)
