// The database stopped under PostgresStore and MySqlStore (a throwaway server each, never the shared
// one): calls fail fast with a coded error, a hung server is cut by the timeout, the process lives
// on, and the same store works again once the server is back, without a restart.
import { test, type Test } from 'tap'
import { MySqlStore, PostgresStore } from '../../plugins/session/index.js'
import { startMariaDbServer } from '../helpers/mariadb-server.js'
import { startPostgresServer } from '../helpers/postgres-server.js'
import type { DatabaseServerHandle } from '../helpers/server-process.js'
import { mysqlPool, pgPool } from '../helpers/sql.js'
import { eventually } from '../helpers/eventually.js'

const cookie = (): Record<string, unknown> => ({ expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 })

type Store = PostgresStore | MySqlStore
const KINDS = [
  {
    name: 'PostgreSQL',
    start: startPostgresServer,
    stores: (t: Tap, url: string, timeout: number): Record<string, Store> => ({
      'a pool of its own (url)': new PostgresStore({ url, timeout, createTable: true, pruneInterval: false, touchAfter: 0, breaker: false, logger: false }),
      'your pool': new PostgresStore({ pool: pgPool(t, url), timeout, pruneInterval: false, touchAfter: 0, breaker: false })
    })
  },
  {
    name: 'MariaDB',
    start: startMariaDbServer,
    stores: (t: Tap, url: string, timeout: number): Record<string, Store> => ({
      'a pool of its own (url)': new MySqlStore({ url, timeout, createTable: true, pruneInterval: false, touchAfter: 0, breaker: false, logger: false }),
      'your pool': new MySqlStore({ pool: mysqlPool(t, url), timeout, pruneInterval: false, touchAfter: 0, breaker: false, logger: false })
    })
  }
] as const
type Tap = Test

/**
 * Every call of the store, each failing with `code` within `limit` ms; `destructive: false` leaves
 * out `destroy` and `clear` (a statement cut by the timeout still runs once a hung server resumes).
 */
async function allFail (t: Tap, store: Store, code: string, limit: number, label: string, destructive = true): Promise<void> {
  for (const [op, call] of Object.entries({
    get: () => store.get('before'),
    set: () => store.set('other', { cookie: cookie() }),
    destroy: () => store.destroy('other'),
    touch: () => store.touch('before', { cookie: cookie() }),
    length: () => store.length(),
    ids: () => store.ids(),
    clear: () => store.clear()
  })) {
    if (!destructive && (op === 'destroy' || op === 'clear')) continue
    const started = performance.now()
    const err = await call().then(() => null, (e: Error) => e)
    const took = performance.now() - started
    t.equal((err as { code?: string } | null)?.code, code, `${label}, ${op}: ${code}`)
    t.ok(took < limit, `${label}, ${op}: within ${limit} ms (${took.toFixed(0)} ms)`)
  }
}

for (const kind of KINDS) {
  test(`${kind.name} stopped, hung and restarted under the SQL store`, async (t) => {
    const server: DatabaseServerHandle | null = await kind.start(t)
    if (server === null) return
    const timeout = 1000
    const stores = kind.stores(t, server.url, timeout)
    for (const store of Object.values(stores)) t.teardown(() => store.close())
    for (const [label, store] of Object.entries(stores)) {
      await store.set('before', { cookie: cookie(), user: 'ada' })
      t.equal((await store.get('before'))?.user, 'ada', `${label}: works while the server is up`)
    }

    server.kill('SIGKILL')
    for (const [label, store] of Object.entries(stores)) {
      // the pool notices the lost connections; from then on every call fails at once
      await eventually(async () => {
        const err = await store.get('before').then(() => null, (e: Error) => e)
        if (err === null) throw new Error('still answering')
      }, 5000)
      await allFail(t, store, 'FST_FLEET_SESSION_BACKEND', timeout / 2, `down, ${label}`)
    }

    await server.restart()
    for (const [label, store] of Object.entries(stores)) {
      await eventually(() => store.set('after', { cookie: cookie(), user: 'bob' }), 10_000)
      t.equal((await store.get('after'))?.user, 'bob', `${label}: works again, same store, same pool`)
      t.equal((await store.get('before'))?.user, 'ada', `${label}: what was committed before the crash is still there`)
    }

    server.kill('SIGSTOP')
    try {
      for (const [label, store] of Object.entries(stores)) await allFail(t, store, 'FST_FLEET_SESSION_TIMEOUT', timeout + 500, `hung, ${label}`, false)
    } finally {
      server.kill('SIGCONT')
    }
    for (const [label, store] of Object.entries(stores)) {
      await eventually(() => store.get('after'), 10_000)
      t.equal((await store.get('after'))?.user, 'bob', `${label}: answers again once the server does`)
    }
  })
}
