// Memcached killed, hung and restarted under MemcachedStore (a throwaway server, never the shared
// one): calls fail fast with a coded error, a hung server is cut at the timeout, the process lives
// on, and the same store works again once the server is back, without a restart.
import { test } from 'tap'
import { MemcachedStore } from '../../plugins/session/stores/memcached.js'
import { memjsClient, startMemcachedServer } from '../helpers/memcached-server.js'
import { eventually } from '../helpers/eventually.js'

const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 })

/** The calls that reach Memcached, each with what it resolves to or its error's code, and how long it took. */
async function outcomes (store: MemcachedStore): Promise<Array<[string, unknown, number]>> {
  const calls = {
    get: () => store.get('before'),
    set: () => store.set('other', { cookie: cookie() }),
    destroy: () => store.destroy('other'),
    touch: () => store.touch('before', { cookie: cookie() })
  }
  return await Promise.all(Object.entries(calls).map(async ([label, call]): Promise<[string, unknown, number]> => {
    const started = performance.now()
    const outcome = await call().then(() => 'answered', (err: { code?: string }) => err.code)
    return [label, outcome, performance.now() - started]
  }))
}

test('Memcached killed, hung and restarted under the store', async (t) => {
  const server = await startMemcachedServer(t)
  if (server === null) return
  const timeout = 500
  const stores: Record<string, MemcachedStore> = {
    'a client of its own (servers)': new MemcachedStore({ servers: server.servers, prefix: 'own:', timeout, touchAfter: 0, breaker: false }),
    // a memjs client of yours: one try per command, and its own timeout well past the store's
    'your client': new MemcachedStore({ client: memjsClient(t, server.servers, { retries: 1, timeout: 5 }), prefix: 'yours:', timeout, touchAfter: 0, breaker: false })
  }
  for (const store of Object.values(stores)) t.teardown(() => store.close())
  for (const [label, store] of Object.entries(stores)) {
    await store.set('before', { cookie: cookie(), user: 'ada' })
    t.equal((await store.get('before'))?.user, 'ada', `${label}: works while Memcached is up`)
  }

  server.kill('SIGKILL')
  for (const [label, store] of Object.entries(stores)) {
    // the client notices the closed connection; from then on every call fails at once
    await eventually(async () => {
      if (await store.get('before').then(() => true, () => false)) throw new Error('still answering')
    }, 5000)
    for (const [op, code, took] of await outcomes(store)) {
      t.equal(code, 'FST_FLEET_SESSION_BACKEND', `${label}, killed, ${op}: a coded error`)
      t.ok(took < timeout / 5, `${label}, killed, ${op}: at once (${took.toFixed(0)} ms)`)
    }
    t.match(await store.length().catch((err: Error) => err), { code: 'FST_FLEET_SESSION_UNSUPPORTED' }, `${label}: length never reaches Memcached`)
  }

  await server.restart()
  for (const [label, store] of Object.entries(stores)) {
    await eventually(() => store.set('after', { cookie: cookie(), user: 'bob' }), 5000)
    t.equal((await store.get('after'))?.user, 'bob', `${label}: works again after the restart, the same store`)
    t.equal(await store.get('before'), null, `${label}: what the old server held is gone`)
    await store.set('before', { cookie: cookie(), user: 'ada' })
  }

  t.ok(server.kill('SIGSTOP'), 'every thread of Memcached stopped')
  const hung = await Promise.all(Object.entries(stores).map(async ([label, store]) => [label, await outcomes(store)] as const))
  for (const [label, results] of hung) {
    for (const [op, code, took] of results) {
      t.equal(code, 'FST_FLEET_SESSION_TIMEOUT', `${label}, hung, ${op}: FST_FLEET_SESSION_TIMEOUT`)
      t.ok(took >= timeout - 5 && took < timeout + 400, `${label}, hung, ${op}: at the timeout (${took.toFixed(0)} ms)`)
    }
  }
  server.kill('SIGCONT')
  for (const [label, store] of Object.entries(stores)) {
    const back = await eventually(async () => {
      const session = await store.get('before')
      if (session === null) throw new Error('not yet')
      return session
    }, 5000)
    t.equal(back.user, 'ada', `${label}: answers again once Memcached resumes; the late answers changed nothing`)
  }
})
