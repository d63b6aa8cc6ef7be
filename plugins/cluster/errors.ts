import { defineError } from '../internal/errors.js'

export {
  FST_FLEET_CLUSTER_BUS_CLOSED, FST_FLEET_CLUSTER_BUS_NO_HANDLER, FST_FLEET_CLUSTER_BUS_REMOTE, FST_FLEET_CLUSTER_BUS_TIMEOUT,
  FST_FLEET_CLUSTER_BUS_UNSENDABLE
} from '../internal/bus-errors.js'

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
