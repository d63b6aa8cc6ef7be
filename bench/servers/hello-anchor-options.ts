// anchor: hello-world on hand-written Fastify HTTP/2 options, with the same dev certificate as the fleet server.
import fastify from 'fastify'
import { devCertificate } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'

const { key, cert } = await devCertificate()
const app = fastify({ http2: true, https: { allowHTTP1: true, key, cert }, logger: false })
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
