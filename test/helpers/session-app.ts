// An app as the demo sets @fastify/session up (saveUninitialized: false, rolling, HttpOnly and
// SameSite=Lax cookies; not Secure, for inject over plain HTTP) over a store the test gives, for the
// session security tests: `/login` regenerates the id, `/me` reads and changes the session (401
// without one), `/whoami` only reads it, `/logout` destroys it.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import type { SessionStore } from '../../plugins/session/index.js'

export interface SessionAppOptions {
  secret: string | string[]
  store: SessionStore
  /** @default false (the demo's) */
  saveUninitialized?: boolean
}

/** The app, closed when the test ends. */
export async function sessionApp (t: { teardown: (fn: () => unknown) => void }, { secret, store, saveUninitialized = false }: SessionAppOptions): Promise<FastifyInstance> {
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret,
    store: store as never,
    saveUninitialized,
    cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 3_600_000 }
  })
  app.post('/login', async (request) => {
    await request.session.regenerate()
    request.session.set('user', 'ada')
    return { ok: true }
  })
  app.get('/me', async (request, reply) => {
    const user = request.session.get('user')
    if (user === undefined) return await reply.code(401).send()
    request.session.set('views', (request.session.get('views') ?? 0) + 1)
    return { user }
  })
  app.get('/whoami', async (request, reply) => {
    const user = request.session.get('user')
    return user === undefined ? await reply.code(401).send() : { user }
  })
  app.post('/logout', async (request, reply) => {
    await request.session.destroy()
    return await reply.code(204).send()
  })
  t.teardown(() => app.close())
  return app
}

/** The first Set-Cookie of a response, whole. */
export const setCookieOf = (res: LightMyRequestResponse): string => String([res.headers['set-cookie']].flat()[0])

/** The `name=value` part of a Set-Cookie, to send back as a Cookie header. */
export const cookiePair = (setCookie: string): string => setCookie.split(';')[0] as string

/** The session id in a `sessionId=<id>.<signature>` cookie (pair or whole Set-Cookie). */
export function sessionIdOf (cookie: string): string {
  const value = decodeURIComponent(cookiePair(cookie).slice(cookie.indexOf('=') + 1))
  return value.slice(0, value.lastIndexOf('.'))
}

/** The signed value (`<id>.<signature>`) of a cookie. */
export const signedValueOf = (cookie: string): string => decodeURIComponent(cookiePair(cookie).slice(cookie.indexOf('=') + 1))
