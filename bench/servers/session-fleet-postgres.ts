// fleet: the session app on fastify-fleet's PostgresStore (connect-pg-simple's table layout, write
// elision on, touchAfter 60 s) on a pg Pool (max 10), in the table the scenario made; no prunes.
import { PostgresStore } from 'fastify-fleet/session'
import { sessionApp } from '../lib/session-app.js'
import { pgPool, rolling, serveCounted, tableName } from './session-sql-shared.js'

const { pool, statements } = pgPool()
const store = new PostgresStore({ pool, tableName: tableName('fleet'), createTable: false, pruneInterval: false })
await serveCounted(await sessionApp(store, { rolling }), statements)
