// An Express app (express-session + connect-memcached 3, on its own `memcached` client) and a Fastify
// app (@fastify/session + MemcachedStore) on one Memcached and one prefix share live sessions both
// ways, over real HTTP; and what each side sends per request.
import { once } from 'node:events'
import type { AddressInfo, Server } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test, type Test } from 'tap'
import { jsonFlagSerializer, MemcachedStore } from '../../plugins/session/stores/memcached.js'
import { countingMemjs, memjsClient, textCommand, uniqueMemcachedPrefix } from '../helpers/memcached-server.js'
import { requireService, unavailable } from '../helpers/services.js'

const SECRET = 'a secret of at least thirty-two characters, shared'
const MAX_AGE = 3_600_000

// express, express-session, connect-memcached and memcached ship no types this project installs: loaded untyped
const load = async (name: string): Promise<any> => await import(name)

interface Reply { status: number, body: unknown, cookie: string | undefined }

/** A Fastify app on `store`, with express-session's cookie, and the routes of the Express app. */
async function fastifyApp (t: Test, store: MemcachedStore): Promise<string> {
  const fastify = Fastify()
  await fastify.register(fastifyCookie)
  await fastify.register(fastifySession, {
    store,
    secret: SECRET,
    cookieName: 'connect.sid',
    cookiePrefix: 's:',
    saveUninitialized: false,
    cookie: { secure: false, maxAge: MAX_AGE }
  })
  fastify.post<{ Params: { user: string } }>('/login/:user', async (req) => {
    await req.session.regenerate()
    req.session.set('user', req.params.user)
    req.session.set('views', 0)
    return { ok: true }
  })
  fastify.get('/me', async (req, reply) => {
    const user = req.session.get('user')
    if (user === undefined) return await reply.code(401).send({ user: null })
    return { user, views: req.session.get('views'), by: 'fastify' }
  })
  fastify.post('/visit', async (req, reply) => {
    if (req.session.get('user') === undefined) return await reply.code(401).send({ user: null })
    req.session.set('views', (req.session.get('views') as number) + 1)
    return { views: req.session.get('views'), by: 'fastify' }
  })
  fastify.post('/logout', async (req, reply) => {
    await req.session.destroy()
    return await reply.code(204).send()
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => fastify.close())
  return `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`
}

const call = async (base: string, method: string, path: string, cookie?: string): Promise<Reply> => {
  const res = await fetch(base + path, { method, headers: cookie === undefined ? {} : { cookie } })
  const text = await res.text()
  const set = res.headers.get('set-cookie')?.split(';')[0]
  let body: unknown = text
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {}
  return { status: res.status, body, cookie: set }
}

test('Express (express-session + connect-memcached 3) and Fastify (MemcachedStore) share live sessions both ways', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const prefix = uniqueMemcachedPrefix('express')
  const loaded = await Promise.all([load('express'), load('express-session'), load('connect-memcached'), load('memcached')]).catch((err: Error) => err)
  /* c8 ignore next - only when the devDependencies express, express-session and connect-memcached are missing */
  if (loaded instanceof Error) return unavailable(t, `express interop needs express, express-session and connect-memcached@3: ${loaded.message}`)
  const [{ default: express }, { default: session }, { default: connectMemcached }, { default: Memcached }] = loaded

  // connect-memcached on a `memcached` client of the test's, counting what it sends
  const theirClient = new Memcached(servers, { retries: 0 })
  t.teardown(() => { theirClient.end() })
  const theirCommands: string[] = []
  for (const name of ['get', 'set', 'del', 'touch']) {
    const original = theirClient[name].bind(theirClient)
    theirClient[name] = (...args: unknown[]) => { theirCommands.push(name); return original(...args) }
  }
  const ConnectMemcachedStore = connectMemcached(session)
  const theirStore = new ConnectMemcachedStore({ client: theirClient, prefix })
  const app = express()
  app.use(session({ store: theirStore, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }))
  app.post('/login/:user', (req: any, res: any) => { req.session.user = req.params.user; req.session.views = 0; res.json({ ok: true }) })
  app.get('/me', (req: any, res: any) => {
    if (req.session.user === undefined) return res.status(401).json({ user: null })
    res.json({ user: req.session.user, views: req.session.views, by: 'express' })
  })
  app.post('/visit', (req: any, res: any) => {
    if (req.session.user === undefined) return res.status(401).json({ user: null })
    req.session.views += 1
    res.json({ views: req.session.views, by: 'express' })
  })
  app.post('/logout', (req: any, res: any) => { req.session.destroy(() => res.status(204).end()) })
  app.use((err: Error, req: any, res: any, next: unknown) => { res.status(500).json({ error: err.message }) })
  const expressServer: Server = app.listen(0, '127.0.0.1')
  await once(expressServer, 'listening')
  t.teardown(() => { expressServer.close() })

  const counted = countingMemjs(memjsClient(t, servers, { serializer: jsonFlagSerializer }))
  const base = {
    express: `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`,
    fastify: await fastifyApp(t, new MemcachedStore({ client: counted.client, prefix }))
  }
  const sent = async (app: 'express' | 'fastify', method: string, path: string, cookie: string): Promise<[unknown, string[]]> => {
    theirCommands.length = 0
    counted.commands.length = 0
    const { body } = await call(base[app], method, path, cookie)
    return [body, [...(app === 'express' ? theirCommands : counted.commands)]]
  }

  // logged in on Express, used on Fastify, back on Express
  const login = await call(base.express, 'POST', '/login/ada')
  const signed = /^connect\.sid=s:[\w-]+\.[A-Za-z0-9+/]{43}$/
  t.match(decodeURIComponent(String(login.cookie)), signed, 'express-session signs its cookie')
  const ada = login.cookie as string
  const sid = decodeURIComponent(ada).slice('connect.sid=s:'.length).split('.')[0] as string
  t.equal(await textCommand(memcached.port, `mg ${prefix}${sid} f`), 'HD f2', 'connect-memcached stores the session JSON with flag 2')
  t.strictSame((await call(base.fastify, 'GET', '/me', ada)).body, { user: 'ada', views: 0, by: 'fastify' }, 'Fastify reads the session Express wrote')
  t.strictSame((await call(base.fastify, 'POST', '/visit', ada)).body, { views: 1, by: 'fastify' }, 'and changes it')
  t.strictSame((await call(base.express, 'POST', '/visit', ada)).body, { views: 2, by: 'express' }, 'Express reads what Fastify changed, and changes it')
  t.strictSame((await call(base.fastify, 'GET', '/me', ada)).body, { user: 'ada', views: 2, by: 'fastify' }, 'and the other way again')

  // logged in on Fastify, used on Express
  const fastifyLogin = await call(base.fastify, 'POST', '/login/bob')
  t.match(decodeURIComponent(String(fastifyLogin.cookie)), signed, 'Fastify signs its cookie the same way')
  const bob = fastifyLogin.cookie as string
  t.strictSame((await call(base.express, 'GET', '/me', bob)).body, { user: 'bob', views: 0, by: 'express' }, 'Express reads the session Fastify wrote')
  t.strictSame((await call(base.express, 'POST', '/visit', bob)).body, { views: 1, by: 'express' }, 'and changes it')
  t.strictSame((await call(base.fastify, 'POST', '/visit', bob)).body, { views: 2, by: 'fastify' }, 'Fastify reads what Express changed')

  // what each sends to Memcached per request (the session known to both processes by now)
  t.strictSame(await sent('express', 'GET', '/me', bob), [{ user: 'bob', views: 2, by: 'express' }, ['get', 'set']],
    'connect-memcached, a read: get, then the whole session set again (its touch() is a set)')
  t.strictSame(await sent('express', 'POST', '/visit', bob), [{ views: 3, by: 'express' }, ['get', 'set']], 'a write: get, set')
  t.strictSame(await sent('fastify', 'GET', '/me', bob), [{ user: 'bob', views: 3, by: 'fastify' }, ['get', 'set']],
    'MemcachedStore, a read of a text connect-memcached wrote: its cookie has other fields, so it is written once in @fastify/session\'s')
  t.strictSame(await sent('fastify', 'GET', '/me', bob), [{ user: 'bob', views: 3, by: 'fastify' }, ['get']], 'then a read is one get, nothing written')
  t.strictSame(await sent('fastify', 'POST', '/visit', bob), [{ views: 4, by: 'fastify' }, ['get', 'set']], 'a write: get, and the session (its cookie says its expiry: no expiry key)')

  // logout on one side ends the session on the other
  t.equal((await call(base.fastify, 'POST', '/logout', ada)).status, 204)
  t.equal((await call(base.express, 'GET', '/me', ada)).status, 401, 'logged out on Fastify: gone on Express')
  t.equal((await call(base.express, 'POST', '/logout', bob)).status, 204)
  t.equal((await call(base.fastify, 'GET', '/me', bob)).status, 401, 'logged out on Express: gone on Fastify')
  t.equal(await textCommand(memcached.port, `mg fleet-expiry:${prefix}${sid} t`), 'EN', 'Fastify\'s logout deleted the expiry key too')

  // a memjs client of yours without jsonFlagSerializer writes flags 0: connect-memcached hands
  // express-session a string, and Express fails the request
  const plain = await fastifyApp(t, new MemcachedStore({ client: memjsClient(t, servers), prefix }))
  const cy = (await call(plain, 'POST', '/login/cy')).cookie as string
  const cySid = decodeURIComponent(cy).slice('connect.sid=s:'.length).split('.')[0] as string
  t.equal(await textCommand(memcached.port, `mg ${prefix}${cySid} f`), 'HD f0', 'flags 0')
  const refused = await call(base.express, 'GET', '/me', cy)
  t.strictSame([refused.status, refused.body], [500, { error: "Cannot read properties of undefined (reading 'expires')" }],
    'Express cannot read it: express-session looks for the cookie of a string, a 500')
  t.strictSame((await call(base.fastify, 'GET', '/me', cy)).body, { user: 'cy', views: 0, by: 'fastify' }, 'Fastify reads it either way')
  t.equal((await call(plain, 'POST', '/logout', cy)).status, 204)

  // connect-memcached sends a lifetime over 30 days as it is: Memcached takes it for a time in 1970
  const fortyDays = 40 * 24 * MAX_AGE
  await new Promise((resolve) => theirStore.set('forty', { cookie: { maxAge: fortyDays, expires: new Date(Date.now() + fortyDays) }, user: 'dan' }, resolve))
  t.equal(await textCommand(memcached.port, `mg ${prefix}forty t`), 'EN', 'connect-memcached: a 40-day session is gone at once')
  const ours = new MemcachedStore({ client: memjsClient(t, servers), prefix })
  await ours.set('forty', { cookie: { originalMaxAge: fortyDays, expires: new Date(Date.now() + fortyDays) }, user: 'dan' })
  t.equal((await ours.get('forty'))?.user, 'dan', 'MemcachedStore: kept (an absolute expiry)')
  await ours.destroy('forty')
})

test('a memjs client of yours made with jsonFlagSerializer writes what connect-memcached reads', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const prefix = uniqueMemcachedPrefix('express-flags')
  const loaded = await Promise.all([load('express-session'), load('connect-memcached'), load('memcached')]).catch((err: Error) => err)
  /* c8 ignore next - only when the devDependencies express-session and connect-memcached are missing */
  if (loaded instanceof Error) return unavailable(t, `express interop needs express-session and connect-memcached@3: ${loaded.message}`)
  const [{ default: session }, { default: connectMemcached }, { default: Memcached }] = loaded
  const theirClient = new Memcached(servers, { retries: 0 })
  t.teardown(() => { theirClient.end() })
  const theirStore = new (connectMemcached(session))({ client: theirClient, prefix })
  const theirs = (sid: string): Promise<unknown> => new Promise((resolve, reject) => theirStore.get(sid, (err: Error | null, value: unknown) => err === null ? resolve(value) : reject(err)))

  const flagged = new MemcachedStore({ client: memjsClient(t, servers, { serializer: jsonFlagSerializer }), prefix })
  const plain = new MemcachedStore({ client: memjsClient(t, servers), prefix })
  const data = { cookie: { originalMaxAge: MAX_AGE, expires: new Date(Date.now() + MAX_AGE) }, user: 'ada' }
  await flagged.set('flagged', data)
  await plain.set('plain', data)
  t.strictSame(await theirs('flagged'), JSON.parse(JSON.stringify(data)), 'with jsonFlagSerializer: an object')
  t.equal(await theirs('plain'), JSON.stringify(data), 'without: a string (express-session then fails on it)')
  await flagged.destroy('flagged')
  await plain.destroy('plain')
})
