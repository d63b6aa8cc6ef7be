// anchor: the same route with @fastify/helmet (its defaults, HSTS included), as users set it up today.
import fastify from 'fastify'
import helmet from '@fastify/helmet'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(helmet)
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
