import net from 'node:net'
import { test } from 'tap'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { MySqlStore } from '../../plugins/session/index.js'
import { freePort } from '../helpers/redis-server.js'
import { requireService } from '../helpers/services.js'
import { dropTables, mysqlPool, uniqueTable } from '../helpers/sql.js'

test('MySqlStore passes the conformance suite, its faults included', async (t) => {
  const mysql = await requireService(t, 'mysql')
  if (mysql === null) return
  const pool = mysqlPool(t, mysql.url)
  const tableName = uniqueTable('conformance')
  dropTables(t, (sql) => pool.query(sql), [tableName], '`')
  // a server that accepts connections and says nothing (it hangs up after 500 ms, long after the
  // cases' timeout, so that the pool can end)
  const silent = net.createServer((socket) => { setTimeout(() => socket.destroy(), 500) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { silent.close() })
  const silentPort = (silent.address() as net.AddressInfo).port
  const closedPort = await freePort()

  forTap(t, storeConformance((ctx) => new MySqlStore({ ...ctx, pool, tableName, createTable: true, pruneInterval: false }), {
    hangingStore: (ctx) => new MySqlStore({ ...ctx, pool: mysqlPool(t, `mysql://root@127.0.0.1:${silentPort}/test`), tableName, pruneInterval: false }),
    failingStore: (ctx) => new MySqlStore({ ...ctx, url: `mysql://root@127.0.0.1:${closedPort}/test`, tableName, pruneInterval: false })
  }))
})
