// fleet: hello-world on `serverOptions()` (HTTP/2 over TLS, HTTP/1.1 fallback, dev certificate).
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'

const app = fastify({ ...await serverOptions(), logger: false })
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
