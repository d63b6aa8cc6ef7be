// anchor: the bare route (hello-fleet's) sending the header fleetHsts sends by default, fixed in the
// route: the least a server can do to send HSTS. No check of the Host (fleetHsts sends nothing to IP
// literals and localhost), no hook: its row against fleetHsts is what the plugin costs beyond the header.
import fastify from 'fastify'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'

// fleetHsts's default: maxAge 31536000, includeSubDomains, no preload
const HSTS = 'max-age=31536000; includeSubDomains'

const app = fastify({ ...await serverOptions(), logger: false })
app.get('/', async (request, reply) => {
  reply.header('strict-transport-security', HSTS)
  return { hello: 'world' }
})
await serve(app)
