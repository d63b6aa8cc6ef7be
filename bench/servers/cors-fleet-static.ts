// fleet: fleetCors with a static origin list on `serverOptions()`.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { fleetCors } from 'fastify-fleet/cors'
import { serve } from '../lib/serve.js'
import { ALLOWED_ORIGINS, COMMON_OPTIONS, routes } from './cors-shared.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(fleetCors, { ...COMMON_OPTIONS, origin: ALLOWED_ORIGINS })
routes(app, 'fleetCors')
await serve(app)
