// anchor: the same routes as the CORS servers, without any CORS plugin; `OPTIONS /api/items` answers
// 204 with no headers (the least a server can do for a preflight: answer it at all).
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'
import { routes } from './cors-shared.js'

const app = fastify({ ...await serverOptions(), logger: false })
routes(app, 'none')
app.options('/api/items', async (request, reply) => await reply.code(204).send())
await serve(app)
