// anchor: the same routes as the CORS servers, without any CORS plugin.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'
import { routes } from './cors-shared.js'

const app = fastify({ ...await serverOptions(), logger: false })
routes(app, 'none')
await serve(app)
