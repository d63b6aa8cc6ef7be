import fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { serverOptions } from 'fastify-fleet/server'
import { fleetHsts } from 'fastify-fleet/hsts'
import { fleetCors } from 'fastify-fleet/cors'
import type { FleetAppConfig } from './config.js'
import { sessionStore } from './session-store.js'
import { INDEX_HTML } from './page.js'

declare module 'fastify' {
  interface Session {
    user?: string
    views?: number
  }
}

export interface BuildOptions {
  config: FleetAppConfig
  /** The session secret for this run (config's, or one the primary made). */
  sessionSecret: string
  logger?: boolean | { level: string, stream?: { write: (line: string) => void } }
}

/** Builds the demo app on HTTP/2 + TLS (HTTP/1.1 on the same port). */
export async function buildApp ({ config, sessionSecret, logger = false }: BuildOptions) {
  const tls = config.tls === null
    ? {}
    : { key: config.tls.key, cert: config.tls.cert, ...(config.tls.ca === undefined ? {} : { ca: config.tls.ca }) }
  const app = fastify({
    ...await serverOptions({ ...tls, mode: config.production ? 'production' : 'development' }),
    logger
  })

  // HSTS on every HTTPS response (not for localhost or IP literals, where browsers ignore it)
  await app.register(fleetHsts)
  // the browser app on another origin calls the API with its session cookie
  if (config.corsOrigins.length > 0) {
    await app.register(fleetCors, { origin: config.corsOrigins, credentials: true, allowedHeaders: ['content-type'] })
  }
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: sessionSecret,
    store: await sessionStore(config, app),
    saveUninitialized: false,
    cookie: { secure: true, httpOnly: true, sameSite: 'lax', maxAge: 24 * 3600_000 }
  })

  app.get('/health', async () => ({ status: 'ok', pid: process.pid }))

  app.post<{ Body: { user: string } }>('/login', {
    schema: {
      body: {
        type: 'object',
        required: ['user'],
        additionalProperties: false,
        properties: { user: { type: 'string', minLength: 1, maxLength: 100 } }
      }
    }
  }, async (request) => {
    await request.session.regenerate()
    request.session.user = request.body.user
    return { user: request.body.user, pid: process.pid }
  })

  app.get('/me', async (request, reply) => {
    const user = request.session.user
    if (user === undefined) return await reply.code(401).send({ error: 'Unauthorized', message: 'log in first' })
    const views = (request.session.views ?? 0) + 1
    request.session.views = views
    return { user, views, pid: process.pid }
  })

  app.post('/logout', async (request, reply) => {
    await request.session.destroy()
    return await reply.code(204).send()
  })

  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(INDEX_HTML))

  return app
}
