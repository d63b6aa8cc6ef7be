// fleet: the session app on fastify-fleet's MySqlStore (express-mysql-session's table layout, write
// elision on, touchAfter 60 s) on a mysql2/promise pool (connectionLimit 10), in the table the
// scenario made; no prunes.
import { MySqlStore } from 'fastify-fleet/session'
import { sessionApp } from '../lib/session-app.js'
import { mysqlPool, rolling, serveCounted, tableName } from './session-sql-shared.js'

const { pool, statements } = mysqlPool()
const store = new MySqlStore({ pool, tableName: tableName('fleet'), createTable: false, pruneInterval: false })
await serveCounted(await sessionApp(store, { rolling }), statements)
