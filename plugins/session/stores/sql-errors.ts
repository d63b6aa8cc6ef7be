import { defineError } from '../../internal/errors.js'

/**
 * The session table of `PostgresStore` or `MySqlStore` does not exist (and `createTable` is off):
 * the message names the SQL file that creates it.
 */
export const FST_FLEET_SESSION_TABLE_MISSING = defineError(
  'FST_FLEET_SESSION_TABLE_MISSING',
  'fastify-fleet/session: the session table %s does not exist: create it with the SQL in %s (shipped with the package), or pass createTable: true'
)

/**
 * `MySqlStore` on a table without an index on `expires` (express-mysql-session's own SQL has none):
 * each prune scans the whole table. Logged once (`logger.warn`), never thrown.
 */
export const FST_FLEET_SESSION_EXPIRES_INDEX_MISSING = defineError(
  'FST_FLEET_SESSION_EXPIRES_INDEX_MISSING',
  'fastify-fleet/session: the session table %s has no index on %s, so each prune scans the whole table; add one: %s'
)

/** `PostgresStore({ url })` or `MySqlStore({ url })` without its driver installed. */
export const FST_FLEET_SESSION_DRIVER_MISSING = defineError(
  'FST_FLEET_SESSION_DRIVER_MISSING',
  'fastify-fleet/session: %s needs the package %s: npm install %s'
)
