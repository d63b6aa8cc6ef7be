// fleet: a GET route with fleetHsts (default options) on `serverOptions()`.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { fleetHsts } from 'fastify-fleet/hsts'
import { serve } from '../lib/serve.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(fleetHsts)
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
