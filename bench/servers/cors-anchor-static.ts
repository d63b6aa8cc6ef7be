// anchor: @fastify/cors with the same static origin list.
import fastify from 'fastify'
import cors from '@fastify/cors'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'
import { ALLOWED_ORIGINS, COMMON_OPTIONS, routes } from './cors-shared.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(cors, { ...COMMON_OPTIONS, origin: ALLOWED_ORIGINS })
routes(app, '@fastify/cors')
await serve(app)
