// Shared by the session-tiered bench servers (not a server itself): the app both serve, without TLS
// as a host of examples/multi-host runs behind its balancer (HTTP2=1: HTTP/2 without TLS, for
// h2load), with @fastify/session's defaults (`rolling`), and its read-heavy route.
import fastifyCookie from '@fastify/cookie'
import fastifySession, { type FastifySessionOptions } from '@fastify/session'
import fastify, { type FastifyInstance } from 'fastify'

/** Of every `WRITE_EVERY` requests of `GET /mix`, one changes the session: 95 % reads, 5 % writes. */
export const WRITE_EVERY = 20

/**
 * The app on `store`: `POST /login` regenerates the session and stores `{ user, views: 0 }`;
 * `GET /mix` reads it and, on every `WRITE_EVERY`-th request this process serves, changes it.
 */
export async function tieredBenchApp (store: FastifySessionOptions['store']): Promise<FastifyInstance<any, any, any, any, any>> {
  // HTTP2=1: HTTP/2 without TLS (h2c), for h2load
  const app: FastifyInstance<any, any, any, any, any> = process.env.HTTP2 === '1' ? fastify({ logger: false, http2: true }) : fastify({ logger: false })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'bench-secret-bench-secret-bench-secret',
    cookie: { maxAge: 86_400_000, secure: false },
    saveUninitialized: false,
    store
  })
  const session = (request: { session: unknown }): Record<string, unknown> & { regenerate: () => Promise<void> } =>
    request.session as Record<string, unknown> & { regenerate: () => Promise<void> }
  app.post('/login', async (request) => {
    await session(request).regenerate()
    session(request).user = (request.body as { user: string }).user
    session(request).views = 0
    return { user: session(request).user }
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
