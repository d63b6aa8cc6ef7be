// anchor: the same session app on express-mysql-session 3's MySQLStore on the same mysql2/promise pool
// setup (connectionLimit 10, passed as its second constructor argument), in its own table of the
// same layout (made by the scenario, so `createDatabaseTable: false`); `clearExpired: false` turns
// off its interval of expired-row deletes. Its class inherits the `Store` of the session module it
// is given: @fastify/session's (see session-anchor-connect-pg-simple.ts). Its `get`, `set` and
// `destroy` take the callbacks @fastify/session passes; every `set` is one upsert (`INSERT … ON
// DUPLICATE KEY UPDATE`), `get` one `SELECT` (expiry checked in JavaScript).
import { createRequire } from 'node:module'
import fastifySession from '@fastify/session'
import { sessionApp } from '../lib/session-app.js'
import { mysqlPool, rolling, serveCounted, tableName } from './session-sql-shared.js'

/** The part of express-mysql-session 3's options used here (it ships no types). */
interface MySqlStoreOptions {
  createDatabaseTable: boolean
  clearExpired: boolean
  endConnectionOnClose: boolean
  schema: { tableName: string }
}
type MySqlStoreClass = new (options: MySqlStoreOptions, connection: unknown) => fastifySession.SessionStore

const expressMysqlSession = createRequire(import.meta.url)('express-mysql-session') as (session: unknown) => MySqlStoreClass
const MySqlStore = expressMysqlSession(fastifySession)

const { pool, statements } = mysqlPool()
const store = new MySqlStore({ createDatabaseTable: false, clearExpired: false, endConnectionOnClose: false, schema: { tableName: tableName('anchor') } }, pool)
await serveCounted(await sessionApp(store, { rolling }), statements)
