// An Express app (express-session + connect-memcached 3, on its own `memcached` client) and a Fastify
// app (@fastify/session + MemcachedStore) on one Memcached and one prefix share live sessions both
// ways, over real HTTP; and what each side sends per request.
import { test } from 'tap'
import { jsonFlagSerializer, MemcachedStore } from '../../plugins/session/stores/memcached.js'
import { callAt, fastifyApp, importUntyped, interopApps, logoutsCross, MAX_AGE, NOTE, sessionsCross, sidOf } from '../helpers/express-interop.js'
import { countingMemjs, memjsClient, textCommand, uniqueMemcachedPrefix } from '../helpers/memcached-server.js'
import { requireService } from '../helpers/services.js'

test('Express (express-session + connect-memcached 3) and Fastify (MemcachedStore) share live sessions both ways', async (t) => {
  const memcached = await requireService(t, 'memcached')
  if (memcached === null) return
  const servers = `${memcached.host}:${memcached.port}`
  const prefix = uniqueMemcachedPrefix('express')
  const modules = await importUntyped(t, ['express', 'express-session', 'connect-memcached', 'memcached'])
  if (modules === null) return
  const [{ default: express }, { default: session }, { default: connectMemcached }, { default: Memcached }] = modules

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
  const counted = countingMemjs(memjsClient(t, servers, { serializer: jsonFlagSerializer }))
  const { call } = await interopApps(t, { express, session, expressStore: theirStore, fastifyStore: new MemcachedStore({ client: counted.client, prefix }) })
  const sent = async (app: 'express' | 'fastify', method: string, path: string, cookie: string): Promise<[unknown, string[]]> => {
    theirCommands.length = 0
    counted.commands.length = 0
    const { body } = await call(app, method, path, cookie)
    return [body, [...(app === 'express' ? theirCommands : counted.commands)]]
  }

  const { ada, bob } = await sessionsCross(t, call, {
    expressLogin: async (login) => {
      t.equal(await textCommand(memcached.port, `mg ${prefix}${sidOf(login.cookie as string)} f`), 'HD f2', 'connect-memcached stores the session JSON with flag 2')
    }
  })

  // what each sends to Memcached per request (the session known to both processes by now)
  t.strictSame(await sent('express', 'GET', '/me', bob), [{ user: 'bob', views: 2, note: NOTE, by: 'express' }, ['get', 'set']],
    'connect-memcached, a read: get, then the whole session set again (its touch() is a set)')
  t.strictSame(await sent('express', 'POST', '/visit', bob), [{ user: 'bob', views: 3, note: NOTE, by: 'express' }, ['get', 'set']], 'a write: get, set')
  t.strictSame(await sent('fastify', 'GET', '/me', bob), [{ user: 'bob', views: 3, note: NOTE, by: 'fastify' }, ['get', 'set']],
    'MemcachedStore, a read of a text connect-memcached wrote: its cookie has other fields, so it is written once in @fastify/session\'s')
  t.strictSame(await sent('fastify', 'GET', '/me', bob), [{ user: 'bob', views: 3, note: NOTE, by: 'fastify' }, ['get']], 'then a read is one get, nothing written')
  t.strictSame(await sent('fastify', 'POST', '/visit', bob), [{ user: 'bob', views: 4, note: NOTE, by: 'fastify' }, ['get', 'set']],
    'a write: get, and the session (its cookie says its expiry: no expiry key)')

  await logoutsCross(t, call, ada, bob)
  t.equal(await textCommand(memcached.port, `mg fleet-expiry:${prefix}${sidOf(ada)} t`), 'EN', 'Fastify\'s logout deleted the expiry key too')

  // a memjs client of yours without jsonFlagSerializer writes flags 0: connect-memcached hands
  // express-session a string, and Express fails the request
  const plain = await fastifyApp(t, new MemcachedStore({ client: memjsClient(t, servers), prefix }))
  const cy = (await callAt(plain, 'POST', '/login/cy')).cookie as string
  t.equal(await textCommand(memcached.port, `mg ${prefix}${sidOf(cy)} f`), 'HD f0', 'flags 0')
  const refused = await call('express', 'GET', '/me', cy)
  t.strictSame([refused.status, refused.body], [500, { error: "Cannot read properties of undefined (reading 'expires')" }],
    'Express cannot read it: express-session looks for the cookie of a string, a 500')
  t.strictSame((await call('fastify', 'GET', '/me', cy)).body, { user: 'cy', views: 0, note: NOTE, by: 'fastify' }, 'Fastify reads it either way')
  t.equal((await callAt(plain, 'POST', '/logout', cy)).status, 204)

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
  const modules = await importUntyped(t, ['express-session', 'connect-memcached', 'memcached'])
  if (modules === null) return
  const [{ default: session }, { default: connectMemcached }, { default: Memcached }] = modules
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
