// floor: the same session app on the least a store on MySQL does per request: one `SELECT` by id
// (the expiry checked in JavaScript) and one upsert (`INSERT … ON DUPLICATE KEY UPDATE`), JSON in
// and out, through callbacks, on the same mysql2/promise pool setup (connectionLimit 10), in the
// anchor's table. Like fastify-fleet's stores it hands @fastify/session back the signed cookie value
// (lib/signed-value.ts). No timeout, no write elision, no check of what it reads: less than
// MySqlStore must do, so no store sending these statements can do much better.
import { sessionApp } from '../lib/session-app.js'
import { signedValueOf, withSignedValue } from '../lib/signed-value.js'
import { mysqlPool, rolling, serveCounted, tableName } from './session-sql-shared.js'

type Callback = (err?: Error | null, value?: any) => void
const { pool, statements } = mysqlPool()
const table = pool.escapeId(tableName('anchor'))
const signed = new Map<string, unknown>()
const DAY = 86_400_000

const store = {
  get (sid: string, cb: Callback): void {
    pool.query(`SELECT data, expires FROM ${table} WHERE session_id = ?`, [sid]).then(([rows]) => {
      const row = (rows as Array<{ data: string, expires: number }>)[0]
      if (row === undefined || row.expires * 1000 <= Date.now()) return cb(null, null)
      cb(null, Object.assign(withSignedValue(sid, signed.get(sid)), JSON.parse(row.data)))
    }, cb)
  },
  set (sid: string, live: object, cb: Callback): void {
    const expires = (live as { cookie?: { expires?: unknown } }).cookie?.expires
    const at = expires instanceof Date ? expires.getTime() : Date.now() + DAY
    signed.set(sid, signedValueOf(sid, live))
    pool.query(`INSERT INTO ${table} (session_id, expires, data) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE expires = VALUES(expires), data = VALUES(data)`,
      [sid, Math.floor(at / 1000), JSON.stringify(live)]).then(() => { cb() }, cb)
  },
  destroy (sid: string, cb: Callback): void {
    signed.delete(sid)
    pool.query(`DELETE FROM ${table} WHERE session_id = ?`, [sid]).then(() => { cb() }, cb)
  }
}

await serveCounted(await sessionApp(store, { rolling }), statements)
