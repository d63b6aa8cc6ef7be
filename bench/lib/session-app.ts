import fastifyCookie from '@fastify/cookie'
import fastifySession, { type FastifySessionOptions } from '@fastify/session'
import fastify, { type FastifyInstance } from 'fastify'
import { serverOptions } from 'fastify-fleet/server'

/** Of every `WRITE_EVERY` requests of `GET /mix`, one changes the session: 95 % reads, 5 % writes. */
export const WRITE_EVERY = 20

/** Options of `sessionApp()`. */
export interface SessionAppOptions {
  /** @fastify/session's `rolling`. @default true */
  rolling?: boolean
  /**
   * HTTP/2 without TLS (h2c), as a host behind a balancer that ends TLS serves (for h2load);
   * else `serverOptions()`: TLS, HTTP/2 with the HTTP/1.1 fallback.
   * @default false
   */
  h2c?: boolean
}

/**
 * The app of the session scenarios: `POST /login` regenerates the session and stores
 * `{ user, views: 0 }`; `GET /me` reads it (with `rolling`, the default, @fastify/session saves it
 * again on every request); `GET /visit` changes it (a write on every request); `GET /mix` reads it
 * and changes it on every `WRITE_EVERY`-th request the process serves (read-heavy).
 * `store` undefined: @fastify/session's own MemoryStore. `rolling: false` saves a session only when
 * it changed (reads then no longer write).
 */
export async function sessionApp (store: FastifySessionOptions['store'], { rolling = true, h2c = false }: SessionAppOptions = {}): Promise<FastifyInstance<any, any, any, any, any>> {
  const app: FastifyInstance<any, any, any, any, any> = h2c
    ? fastify({ http2: true, logger: false })
    : fastify({ ...await serverOptions(), logger: false })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'bench-secret-bench-secret-bench-secret',
    cookie: { maxAge: 86_400_000, secure: !h2c },
    saveUninitialized: false,
    rolling,
    ...(store === undefined ? {} : { store })
  })
  const session = (request: { session: unknown }): Record<string, unknown> & { regenerate: () => Promise<void> } =>
    request.session as Record<string, unknown> & { regenerate: () => Promise<void> }
  app.post('/login', async (request) => {
    await session(request).regenerate()
    session(request).user = (request.body as { user: string }).user
    session(request).views = 0
    return { user: session(request).user }
  })
  app.get('/me', async (request, reply) => {
    const { user, views } = session(request)
    if (user === undefined) return await reply.code(401).send({ error: 'not logged in' })
    return { user, views }
  })
  app.get('/visit', async (request) => {
    session(request).views = (session(request).views as number) + 1
    return { views: session(request).views }
  })
  let served = 0
  app.get('/mix', async (request, reply) => {
    const { user, views } = session(request)
    if (user === undefined) return await reply.code(401).send({ error: 'not logged in' })
    if (++served % WRITE_EVERY === 0) session(request).views = (views as number) + 1
    return { user, views: session(request).views }
  })
  return app
}
