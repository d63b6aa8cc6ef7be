// anchor: @fastify/helmet with every middleware off but HSTS: the fairest helmet for this job.
import fastify from 'fastify'
import helmet from '@fastify/helmet'
import { serverOptions } from 'fastify-fleet/server'
import { serve } from '../lib/serve.js'

const app = fastify({ ...await serverOptions(), logger: false })
await app.register(helmet, {
  contentSecurityPolicy: false,
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xContentTypeOptions: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: false,
  xXssProtection: false,
  strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true }
})
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
