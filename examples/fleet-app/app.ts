import fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { serverOptions, type FleetSecureServerOptions } from 'fastify-fleet/server'
import { fleetHsts } from 'fastify-fleet/hsts'
import { fleetCors } from 'fastify-fleet/cors'
// app.fleet's type (startCluster registers fleetWorker on the app)
import type {} from 'fastify-fleet/cluster'
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
  /** `startCluster`'s worker id: `0` in a single process (then the per-process store does not warn). */
  workerId?: number
  logger?: boolean | { level: string, stream?: { write: (line: string) => void } }
}

/** Fastify's server options: HTTP/2 + TLS, or plain HTTP/1.1 behind a proxy (PROTOCOL=http). */
async function listenerOptions (config: FleetAppConfig): Promise<FleetSecureServerOptions> {
  // typed as the HTTP/2 app either way: the routes use nothing that differs (request.raw)
  if (config.protocol === 'http') return await serverOptions({ protocol: 'http' }) as unknown as FleetSecureServerOptions
  const tls = config.tls === null
    ? {}
    // renewed files are taken without a restart (the primary looks at them for every worker)
    : { key: config.tls.key, cert: config.tls.cert, watch: true, ...(config.tls.ca === undefined ? {} : { ca: config.tls.ca }) }
  return await serverOptions({ ...tls, mode: config.production ? 'production' : 'development' })
}

/**
 * Builds the demo app on HTTP/2 + TLS (HTTP/1.1 on the same port), or on plain HTTP/1.1 behind a
 * TLS-terminating proxy. With TRUST_PROXY, `request.protocol`, `request.host` and `request.ip` come
 * from the X-Forwarded-* headers of those addresses only, so HSTS, secure cookies and the redirect
 * follow what the proxy saw, and a client that sends its own X-Forwarded-Proto is not believed.
 */
export async function buildApp ({ config, sessionSecret, workerId = 0, logger = false }: BuildOptions) {
  const app = fastify({
    ...await listenerOptions(config),
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    // a body is taken as sent: Fastify's default coercion would log `{"user":["ada"]}` or
    // `{"user":1}` in as "ada" or "1" (unknown fields are still dropped)
    ajv: { customOptions: { coerceTypes: false } },
    logger
  })

  // HSTS on every HTTPS response (not for localhost or IP literals, where browsers ignore it);
  // behind a proxy, the plain-HTTP requests it forwards are redirected to its HTTPS port
  await app.register(fleetHsts, config.protocol === 'https'
    ? {}
    : { redirect: { allowedHosts: config.allowedHosts, httpsPort: config.publicPort } })
  // the browser app on another origin calls the API with its session cookie
  if (config.corsOrigins.length > 0) {
    await app.register(fleetCors, { origin: config.corsOrigins, credentials: true, allowedHeaders: ['content-type'] })
  }
  await app.register(fastifyCookie)
  const store = await sessionStore(config, app, workerId !== 0)
  await app.register(fastifySession, {
    secret: sessionSecret,
    store,
    saveUninitialized: false,
    cookie: { secure: true, httpOnly: true, sameSite: 'lax', maxAge: 24 * 3600_000 }
  })

  app.get('/health', async () => ({ status: 'ok', pid: process.pid, host: config.hostName }))

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

  // the page's live panel: who answered this request and how, the session store, the workers
  // (app.fleet is there under startCluster, which registers fleetWorker; not in a bare buildApp)
  app.get('/fleet', async (request) => {
    const status = app.hasDecorator('fleet') ? await app.fleet.status() : { primary: null, workers: [] }
    return {
      answeredBy: { pid: process.pid, workerId: app.hasDecorator('fleet') ? app.fleet.workerId : 0, host: config.hostName },
      protocol: request.raw.httpVersion === '2.0' ? 'h2' : `http/${request.raw.httpVersion}`,
      sessionStore: { name: config.sessionStore, stats: store.stats() },
      primary: status.primary,
      workers: status.workers
    }
  })

  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(INDEX_HTML))

  return app
}
