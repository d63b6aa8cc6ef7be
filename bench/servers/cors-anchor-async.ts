// anchor: @fastify/cors with the same async origin function (a 2 ms allowlist lookup, run on every request).
import fastify from 'fastify'
import cors from '@fastify/cors'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'
import { COMMON_OPTIONS, lookupOrigin, routes } from './cors-shared.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(cors, { ...COMMON_OPTIONS, origin: async (origin: string | undefined) => await lookupOrigin(origin) })
routes(app, '@fastify/cors')
await serve(app)
