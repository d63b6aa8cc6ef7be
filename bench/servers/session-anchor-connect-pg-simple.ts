// anchor: the same session app on connect-pg-simple 10's PGStore on the same pg Pool setup (max 10),
// in its own table of the same layout (made by the scenario); no prunes. connect-pg-simple builds its
// store class on the `Store` of the session module it is given: @fastify/session exports one for
// express-session stores (its MemoryStore), so `connectPgSimple(fastifySession)` is how
// @fastify/session users wire it. Its `get`, `set` and `destroy` take the callbacks @fastify/session
// passes; every `set` is one upsert (`INSERT … ON CONFLICT (sid) DO UPDATE`), `get` one `SELECT`.
import { createRequire } from 'node:module'
import fastifySession from '@fastify/session'
import { sessionApp } from '../lib/session-app.js'
import { pgPool, rolling, serveCounted, tableName } from './session-sql-shared.js'

/** The part of connect-pg-simple 10's options used here (it ships no types). */
interface PgStoreOptions {
  pool: unknown
  tableName: string
  createTableIfMissing: boolean
  pruneSessionInterval: false
}
type PgStoreClass = new (options: PgStoreOptions) => fastifySession.SessionStore

const connectPgSimple = createRequire(import.meta.url)('connect-pg-simple') as (session: unknown) => PgStoreClass
const PgStore = connectPgSimple(fastifySession)

const { pool, statements } = pgPool()
const store = new PgStore({ pool, tableName: tableName('anchor'), createTableIfMissing: false, pruneSessionInterval: false })
await serveCounted(await sessionApp(store, { rolling }), statements)
