// anchor: hello-world on a hand-written `http2.createSecureServer` given to Fastify as `serverFactory`,
// with the same dev certificate as the fleet server.
import { createSecureServer } from 'node:http2'
import fastify from 'fastify'
import { devCertificate } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'

const { key, cert } = await devCertificate()
const app = fastify({
  http2: true,
  logger: false,
  serverFactory: (handler) => createSecureServer({ allowHTTP1: true, key, cert }, handler)
})
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
