import { defineError } from '../../internal/errors.js'

/**
 * A call the store cannot make on its backend: `length()`, `ids()` and `clear()` of
 * `MemcachedStore` (Memcached has no command that lists keys; `clear()` works with `flushOnClear`).
 * Thrown before any call reaches the backend.
 */
export const FST_FLEET_SESSION_UNSUPPORTED = defineError(
  'FST_FLEET_SESSION_UNSUPPORTED',
  'fastify-fleet/session: %s is not supported by %s: %s'
)
