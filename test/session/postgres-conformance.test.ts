import net from 'node:net'
import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { PostgresStore } from '../../plugins/session/index.js'
import { freePort } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'
import { dropTables, pgPool, uniqueTable } from '../helpers/sql.js'

test('PostgresStore passes the conformance suite, its faults included', async (t) => {
  const postgres = await requireService(t, 'postgres')
  if (postgres === null) return
  const pool = pgPool(t, postgres.url)
  const tableName = uniqueTable('conformance')
  dropTables(t, (sql) => pool.query(sql), [tableName], '"')
  // a server that accepts connections and says nothing (it hangs up after 500 ms, long after the
  // cases' timeout, so that the pool can end)
  const silent = net.createServer((socket) => { setTimeout(() => socket.destroy(), 500) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { silent.close() })
  const silentPort = (silent.address() as net.AddressInfo).port
  const closedPort = await freePort()

  forTap(t, storeConformance((ctx) => new PostgresStore({ ...ctx, pool, tableName, createTable: true, pruneInterval: false }), {
    hangingStore: (ctx) => new PostgresStore({ ...ctx, pool: pgPool(t, `postgres://postgres@127.0.0.1:${silentPort}/test`), tableName, pruneInterval: false }),
    failingStore: (ctx) => new PostgresStore({ ...ctx, url: `postgres://postgres@127.0.0.1:${closedPort}/test`, tableName, pruneInterval: false })
  }))
})
