// fleet: fleetCors with an async origin function (a 2 ms allowlist lookup) on `serverOptions()`;
// fleetCors memoises its answers.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { fleetCors } from 'fastify-fleet/cors'
import { serve } from '../lib/serve.js'
import { COMMON_OPTIONS, lookupOrigin, routes } from './cors-shared.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(fleetCors, { ...COMMON_OPTIONS, origin: async (origin) => await lookupOrigin(origin) })
routes(app, 'fleetCors')
await serve(app)
