import fastifyCookie from '@fastify/cookie'
import fastifySession, { type FastifySessionOptions } from '@fastify/session'
import fastify, { type FastifyInstance } from 'fastify'
import { serverOptions } from 'fastify-fleet/server'

/**
 * The app of the session scenarios, on `serverOptions()` (TLS): `POST /login` regenerates the session
 * and stores `{ user, views: 0 }`; `GET /me` reads it (with `rolling`, the default, @fastify/session
 * saves it again on every request); `GET /visit` changes it (a write on every request).
 * `store` undefined: @fastify/session's own MemoryStore. `rolling: false` saves a session only when
 * it changed (reads then no longer write).
 */
export async function sessionApp (store: FastifySessionOptions['store'], { rolling = true } = {}): Promise<FastifyInstance<any, any, any, any, any>> {
  const app: FastifyInstance<any, any, any, any, any> = fastify({ ...await serverOptions(), logger: false })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'bench-secret-bench-secret-bench-secret',
    cookie: { maxAge: 86_400_000, secure: true },
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
  return app
}
