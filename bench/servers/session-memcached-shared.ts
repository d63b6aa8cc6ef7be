// Shared by the session-*-memcached bench servers (not a server itself): the servers of the
// scenario's throwaway memcached (MEMCACHED_SERVERS) and `rolling` (SESSION_ROLLING=false for the
// row that reads without saving). Each store makes its own client, as its users would: memjs for
// fastify-fleet's MemcachedStore, the `memcached` client for connect-memcached.
export { rolling } from './session-redis-shared.js'

/** `MEMCACHED_SERVERS`: `127.0.0.1:<port>`. */
export function memcachedServers (): string {
  const servers = process.env.MEMCACHED_SERVERS
  if (servers === undefined || servers === '') throw new Error('MEMCACHED_SERVERS is not set (the session-memcached scenario sets it)')
  return servers
}
