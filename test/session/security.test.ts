// Session security as users meet it: the demo app (examples/fleet-app, over HTTPS) regenerates the id
// at login and sets Secure, HttpOnly, SameSite=Lax cookies; and what `secret: [new, old]` does in
// @fastify/session 11 (a test app, through inject).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import t, { test, type Test } from 'tap'
import { buildApp } from '../../examples/fleet-app/app.js'
import { readConfig } from '../../examples/fleet-app/config.js'
import { BackendStore } from '../../plugins/session/index.js'
import { MemoryBackend } from '../../plugins/session/stores/memory.js'
import { listen } from '../helpers/app.js'
import { h1Request, type ClientResponse } from '../helpers/clients.js'
import { sessionApp, sessionIdOf, setCookieOf, signedValueOf } from '../helpers/session-app.js'
import { makePki, tlsFiles, type TestPki, type TlsFiles } from '../helpers/tls.js'

const SECRET = 'a-test-secret-that-is-long-enough-to-sign'
let pki: TestPki
/** The demo reads its key and certificate from files (and watches them). */
let files: TlsFiles
t.before(async () => {
  pki = await makePki()
  files = await tlsFiles(t, pki.leaf)
})

/** The demo app over HTTPS, sessions in `SESSION_STORE` (memory unless said). */
async function demo (tt: { teardown: (fn: () => unknown) => void }, store = 'memory'): Promise<(path: string, opts?: { method?: string, cookie?: string, user?: string }) => Promise<ClientResponse>> {
  const config = readConfig({ WORKERS: '1', SESSION_STORE: store, TLS_CERT: 'unused', TLS_KEY: 'unused' })
  const app = await buildApp({ config: { ...config, tls: { key: files.key, cert: files.cert, ca: pki.intermediate.cert } }, sessionSecret: SECRET })
  const { port } = await listen(tt, app)
  return async (path, { method = 'GET', cookie, user } = {}) => await h1Request(`https://localhost:${port}`, path, {
    method,
    ca: pki.root.cert,
    headers: { ...(cookie === undefined ? {} : { cookie }), ...(user === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(user === undefined ? {} : { body: JSON.stringify({ user }) })
  })
}

const cookieOf = (res: { headers: Record<string, unknown> }): string => String([res.headers['set-cookie']].flat()[0]).split(';')[0] as string

for (const store of ['memory', 'cluster']) {
  test(`demo, SESSION_STORE=${store}: login regenerates the id; a planted cookie never reaches the logged-in session (fixation)`, async (t) => {
    const send = await demo(t, store)
    const anonymous = await send('/me')
    t.equal(anonymous.status, 401)
    t.equal(anonymous.headers['set-cookie'], undefined, 'no session (and no cookie) before login')

    // the attacker's own valid session cookie, planted in the victim's browser
    const planted = cookieOf(await send('/login', { method: 'POST', user: 'mallory' }))
    t.strictSame(JSON.parse((await send('/me', { cookie: planted })).body).user, 'mallory')
    const login = await send('/login', { method: 'POST', user: 'ada', cookie: planted })
    t.equal(login.status, 200)
    const victim = cookieOf(login)
    t.not(sessionIdOf(victim), sessionIdOf(planted), 'the id after login differs from the one before')
    t.strictSame(JSON.parse((await send('/me', { cookie: victim })).body).user, 'ada')
    t.equal((await send('/me', { cookie: planted })).status, 401, 'the planted cookie reads no session: the attacker does not ride the login')

    // an id the attacker made up (unsigned, or signed with a guess): a new id at login
    for (const forged of ['sessionId=attacker-chosen-id', `sessionId=attacker-chosen-id.${'A'.repeat(43)}`]) {
      const res = await send('/login', { method: 'POST', user: 'ada', cookie: forged })
      t.not(sessionIdOf(cookieOf(res)), 'attacker-chosen-id', `${forged.slice(0, 40)}…: a fresh id`)
    }
  })
}

test('demo: the session cookie is Secure, HttpOnly, SameSite=Lax, for a day; after logout its replay is refused', async (t) => {
  const send = await demo(t)
  const login = await send('/login', { method: 'POST', user: 'ada' })
  const set = [login.headers['set-cookie']].flat()
  t.equal(set.length, 1)
  t.match(set[0], /^sessionId=[A-Za-z0-9_-]+\.[A-Za-z0-9+/]+; Path=\/; Expires=[A-Za-z]{3}, \d\d [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT; HttpOnly; Secure; SameSite=Lax$/)
  const expires = Date.parse(/Expires=([^;]+)/.exec(String(set[0]))?.[1] as string)
  t.ok(Math.abs(expires - (Date.now() + 24 * 3600_000)) < 60_000, 'Expires: a day from now (maxAge)')
  const me = await send('/me', { cookie: cookieOf(login) })
  t.match(String([me.headers['set-cookie']].flat()[0]), /; HttpOnly; Secure; SameSite=Lax$/, 'the same attributes on every rolling refresh')
  const logout = await send('/logout', { method: 'POST', cookie: cookieOf(login) })
  t.equal(logout.status, 204)
  t.equal(logout.headers['set-cookie'], undefined, '@fastify/session sends no cookie after destroy(): the browser keeps the old one')
  t.equal((await send('/me', { cookie: cookieOf(login) })).status, 401, 'which, replayed, reads no session')
})

/**
 * The recipe (an `onRequest` hook registered after @fastify/session): a session read from a cookie
 * signed with an old secret (the cookie's id, another signature than `secret[0]` makes) is taken as
 * sent with its current signature, so @fastify/session saves it and sends the cookie signed with
 * `secret[0]` (rolling), instead of clearing it as the cookie of a new, unsaved session.
 */
async function resignOldCookie (request: FastifyRequest): Promise<void> {
  const cookie = request.cookies.sessionId
  const session = request.session
  if (cookie === undefined || cookie === session.encryptedSessionId) return
  if (cookie.slice(0, cookie.lastIndexOf('.')) === session.sessionId) request.cookies.sessionId = session.encryptedSessionId
}

/** An app over `backend` (a store of its own: another process, or the same after a restart). */
const appOver = async (t: Test, secret: string | string[], backend: MemoryBackend, saveUninitialized = false): Promise<FastifyInstance> =>
  await sessionApp(t, { secret, store: new BackendStore(backend), saveUninitialized })
const setCookie = setCookieOf
const signed = signedValueOf

test('secret: [new, old]: a cookie signed with old still reads; @fastify/session signs again with new when it saves the session', async (t) => {
  const OLD = 'the-old-secret-that-is-long-enough-32'
  const NEW = 'the-new-secret-that-is-long-enough-32'
  // the same backend, stores of their own (a restart with the new secrets)
  const backend = new MemoryBackend({ maxEntries: 100 }, Date.now)
  const before = await appOver(t, OLD, backend)
  const login = await before.inject({ method: 'POST', url: '/login' })
  const oldCookie = setCookie(login).split(';')[0] as string
  const sid = sessionIdOf(oldCookie)

  const after = await appOver(t, [NEW, OLD], backend)
  const fastifyCookieSigner = (await import('@fastify/cookie')).signerFactory
  const newSigned = fastifyCookieSigner(NEW).sign(sid)

  // a request that changes the session: saved, and the cookie comes back signed with NEW, same id
  const me = await after.inject({ url: '/me', headers: { cookie: oldCookie } })
  t.strictSame([me.statusCode, me.json()], [200, { user: 'ada' }], 'still logged in')
  t.equal(signed(setCookie(me)), newSigned, 'the same id, signed with the new secret')
  const onlyNew = await appOver(t, NEW, backend)
  t.equal((await onlyNew.inject({ url: '/me', headers: { cookie: `sessionId=${encodeURIComponent(newSigned)}` } })).statusCode, 200, 'which the new secret alone reads')
  t.equal((await onlyNew.inject({ url: '/me', headers: { cookie: oldCookie } })).statusCode, 401, 'once OLD is dropped, a cookie still signed with it is refused')

  // a request that only reads the session, with saveUninitialized: false (the demo's setting): the
  // id signed with NEW differs from the cookie's, so @fastify/session takes the session for a new
  // one, does not save it, and clears the cookie: the user is logged out by the browser
  const fresh = await (await appOver(t, OLD, backend)).inject({ method: 'POST', url: '/login' })
  const readOnly = await after.inject({ url: '/whoami', headers: { cookie: setCookie(fresh).split(';')[0] as string } })
  t.equal(readOnly.statusCode, 200, 'this request still reads the session')
  t.match(setCookie(readOnly), /^sessionId=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/, 'but its answer clears the cookie')

  // with saveUninitialized: true (@fastify/session's default) it is saved and signed with NEW
  const saving = await appOver(t, [NEW, OLD], backend, true)
  const fresh2 = await (await appOver(t, OLD, backend)).inject({ method: 'POST', url: '/login' })
  const cookie2 = setCookie(fresh2).split(';')[0] as string
  const readSaved = await saving.inject({ url: '/whoami', headers: { cookie: cookie2 } })
  t.equal(readSaved.statusCode, 200)
  t.equal(signed(setCookie(readSaved)), fastifyCookieSigner(NEW).sign(sessionIdOf(cookie2)), 'saveUninitialized: true re-signs on a read-only request')
})

test('secret rotation with saveUninitialized: false: an onRequest hook keeps the user logged in on every route, the cookie signed again with the new secret', async (t) => {
  const OLD = 'the-old-secret-that-is-long-enough-32'
  const NEW = 'the-new-secret-that-is-long-enough-32'
  const backend = new MemoryBackend({ maxEntries: 100 }, Date.now)
  const login = await (await appOver(t, OLD, backend)).inject({ method: 'POST', url: '/login' })
  const oldCookie = setCookie(login).split(';')[0] as string
  const after = await appOver(t, [NEW, OLD], backend)
  after.addHook('onRequest', resignOldCookie)
  const fastifyCookieSigner = (await import('@fastify/cookie')).signerFactory
  for (const url of ['/whoami', '/me', '/nowhere']) {
    const res = await after.inject({ url, headers: { cookie: oldCookie } })
    const set = [res.headers['set-cookie']].flat()
    t.equal(set.length, 1, `${url}: one Set-Cookie`)
    t.equal(signed(String(set[0])), fastifyCookieSigner(NEW).sign(sessionIdOf(oldCookie)), `${url} (${res.statusCode}): the same id, signed with the new secret`)
  }
  const onlyNew = await appOver(t, NEW, backend)
  const resigned = [(await after.inject({ url: '/whoami', headers: { cookie: oldCookie } })).headers['set-cookie']].flat()[0] as string
  t.strictSame((await onlyNew.inject({ url: '/whoami', headers: { cookie: resigned.split(';')[0] as string } })).json(), { user: 'ada' }, 'the new secret alone reads it')
  const stranger = await after.inject({ url: '/whoami', headers: { cookie: 'sessionId=forged.abc' } })
  t.equal(stranger.statusCode, 401)
  t.match(stranger.headers['set-cookie'], /^sessionId=; Max-Age=0; /, 'a forged cookie is cleared, as without the hook')
})
