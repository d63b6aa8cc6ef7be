import { defineError } from './errors.js'

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
