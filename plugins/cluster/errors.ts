import { defineError } from '../internal/errors.js'

/** A bus request got no answer within its timeout. */
export const FST_FLEET_CLUSTER_BUS_TIMEOUT = defineError(
  'FST_FLEET_CLUSTER_BUS_TIMEOUT',
  'fastify-fleet/cluster: bus request "%s" got no answer within %s ms'
)

/** The other end of the bus is gone (the primary exited, or the worker did), or was never there. */
export const FST_FLEET_CLUSTER_BUS_CLOSED = defineError(
  'FST_FLEET_CLUSTER_BUS_CLOSED',
  'fastify-fleet/cluster: bus request "%s" cannot be answered: %s'
)

/** Nobody handles the topic of a bus request on the other end. */
export const FST_FLEET_CLUSTER_BUS_NO_HANDLER = defineError(
  'FST_FLEET_CLUSTER_BUS_NO_HANDLER',
  'fastify-fleet/cluster: no handler for bus topic "%s" in the %s'
)

/** The handler on the other end threw or rejected; its message and code are kept. */
export const FST_FLEET_CLUSTER_BUS_REMOTE = defineError(
  'FST_FLEET_CLUSTER_BUS_REMOTE',
  'fastify-fleet/cluster: bus handler for "%s" failed: %s'
)

/** A bus message that cannot travel over IPC (a function, a cycle, a BigInt...). */
export const FST_FLEET_CLUSTER_BUS_UNSENDABLE = defineError(
  'FST_FLEET_CLUSTER_BUS_UNSENDABLE',
  'fastify-fleet/cluster: bus message for "%s" cannot be sent: %s',
  500,
  TypeError
)

/** An option of `startCluster()` or `fleetWorker` has the wrong type or value. */
export const FST_FLEET_CLUSTER_INVALID_OPTION = defineError(
  'FST_FLEET_CLUSTER_INVALID_OPTION',
  'fastify-fleet/cluster: invalid option %s: %s',
  500,
  TypeError
)

/** `build` did not give a Fastify instance. */
export const FST_FLEET_CLUSTER_INVALID_APP = defineError(
  'FST_FLEET_CLUSTER_INVALID_APP',
  'fastify-fleet/cluster: build() must return (or resolve to) a Fastify instance, got %s',
  500,
  TypeError
)

/** Workers keep dying: the primary stops everything and exits non-zero. */
export const FST_FLEET_CLUSTER_CRASH_LOOP = defineError(
  'FST_FLEET_CLUSTER_CRASH_LOOP',
  'fastify-fleet/cluster: crash loop: %s; stopping (fix the cause, then start again)'
)

/** A worker did not say it was ready within `readyTimeout`. */
export const FST_FLEET_CLUSTER_READY_TIMEOUT = defineError(
  'FST_FLEET_CLUSTER_READY_TIMEOUT',
  'fastify-fleet/cluster: worker %s was not ready within %s ms'
)

/** `reload()` when it cannot run: while stopping, or in a single process. */
export const FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE = defineError(
  'FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE',
  'fastify-fleet/cluster: reload is not available: %s'
)

/**
 * A shared map asked for in a process that no `startCluster()` primary serves: a worker of PM2's
 * cluster mode or of a hand-written `node:cluster` primary.
 */
export const FST_FLEET_CLUSTER_NO_FLEET_PRIMARY = defineError(
  'FST_FLEET_CLUSTER_NO_FLEET_PRIMARY',
  'fastify-fleet/cluster: no startCluster() primary can host shared map "%s": %s'
)
