// anchor: the same routes as the CORS servers, without any CORS plugin; `OPTIONS /api/items` answers
// 204 with the headers fleetCors sends for the scenario's preflight, fixed in the route. The least a
// server can do for a preflight a browser accepts: route it, and send those six headers.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'
import { routes } from './cors-shared.js'

const PREFLIGHT_HEADERS = {
  'access-control-allow-origin': 'https://app.example.com',
  'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE',
  vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  'access-control-allow-credentials': 'true',
  'access-control-allow-headers': 'content-type, x-request-id',
  'access-control-max-age': '7200'
}

const app = fastify({ ...await serverOptions(), logger: false })
routes(app, 'fixed headers')
app.options('/api/items', async (request, reply) => await reply.code(204).headers(PREFLIGHT_HEADERS).send())
await serve(app)
