import { defineError } from '../internal/errors.js'

/** An option of a session store has the wrong type or value. */
export const FST_FLEET_SESSION_INVALID_OPTION = defineError(
  'FST_FLEET_SESSION_INVALID_OPTION',
  'fastify-fleet/session: invalid option %s: %s',
  500,
  TypeError
)

/** A store method got something else than a non-empty string as the session id. */
export const FST_FLEET_SESSION_INVALID_ID = defineError(
  'FST_FLEET_SESSION_INVALID_ID',
  'fastify-fleet/session: %s: the session id must be a non-empty string, got %s',
  500,
  TypeError
)

/** `set` or `touch` got something else than a session object. */
export const FST_FLEET_SESSION_INVALID_SESSION = defineError(
  'FST_FLEET_SESSION_INVALID_SESSION',
  'fastify-fleet/session: %s: the session must be an object, got %s',
  500,
  TypeError
)

/**
 * The session holds a value the serializer refuses: with the default JSON serializer, a BigInt or a
 * circular reference (JSON.stringify throws on both); the previous stored session stays as it was.
 */
export const FST_FLEET_SESSION_UNSERIALIZABLE = defineError(
  'FST_FLEET_SESSION_UNSERIALIZABLE',
  'fastify-fleet/session: the session cannot be serialized: %s'
)

/** The serialized session is larger than the store accepts (`maxBytes` of MemoryStore). */
export const FST_FLEET_SESSION_TOO_LARGE = defineError(
  'FST_FLEET_SESSION_TOO_LARGE',
  'fastify-fleet/session: the serialized session takes %s bytes, more than maxBytes (%s)'
)

/** A backend call did not answer within `timeout` milliseconds (a request that meets it answers 503). */
export const FST_FLEET_SESSION_TIMEOUT = defineError(
  'FST_FLEET_SESSION_TIMEOUT',
  'fastify-fleet/session: %s did not answer within %s ms',
  503
)

/** A backend call failed; `cause` holds the backend's own error (a request that meets it answers 503). */
export const FST_FLEET_SESSION_BACKEND = defineError(
  'FST_FLEET_SESSION_BACKEND',
  'fastify-fleet/session: %s failed: %s',
  503
)

/**
 * The store's circuit breaker is open (its backend failed `breaker.failures` times within
 * `breaker.window` seconds): the call fails at once, without reaching the backend, until a probe
 * succeeds (a request that meets it answers 503).
 */
export const FST_FLEET_SESSION_UNAVAILABLE = defineError(
  'FST_FLEET_SESSION_UNAVAILABLE',
  'fastify-fleet/session: %s refused at once: the backend failed %s times within %s s (circuit breaker open)',
  503
)

/**
 * A change of state of a store's circuit breaker. Never thrown: logged (`logger.error` when it
 * opens, `logger.warn` when it half-opens or closes).
 */
export const FST_FLEET_SESSION_BREAKER = defineError(
  'FST_FLEET_SESSION_BREAKER',
  'fastify-fleet/session: the circuit breaker of the store is %s (it was %s)'
)

/** A call on a store after `close()`. */
export const FST_FLEET_SESSION_CLOSED = defineError(
  'FST_FLEET_SESSION_CLOSED',
  'fastify-fleet/session: %s on a closed store'
)

/**
 * Stored data that is not a session (it does not parse, or is not an object). Never thrown: `get`
 * answers "no session" and the store logs this error (`logger.warn`, or a process warning).
 */
export const FST_FLEET_SESSION_CORRUPT = defineError(
  'FST_FLEET_SESSION_CORRUPT',
  'fastify-fleet/session: stored session %s is unreadable (%s); treated as no session'
)

/**
 * `ClusterStore` in a process whose cluster primary is not fastify-fleet's `startCluster` (PM2's
 * cluster mode, or a hand-written `node:cluster` primary): nobody would keep the sessions.
 */
export const FST_FLEET_SESSION_CLUSTER_UNSUPPORTED = defineError(
  'FST_FLEET_SESSION_CLUSTER_UNSUPPORTED',
  'fastify-fleet/session: ClusterStore needs the workers to be started by startCluster() of fastify-fleet/cluster, and %s; use RedisStore (or another shared store) instead'
)
