/**
 * `ClusterStore`'s invalidation channel: broadcasts on the cluster's IPC bus (fastify-fleet/cluster),
 * which reach every process of the cluster, this one included (a message of this channel's own is
 * skipped, so two stores in one worker hear each other). The bus loses nothing while the worker
 * lives: the channel listens from the start.
 */
import { clusterBus } from '../../cluster/index.js'
import { InvalidationMessages, bounded, type InvalidationChannel } from '../invalidation.js'

/**
 * The channel of `topic`; `roundTrip` is a request to the primary, bounded by `timeout` ms. The bus
 * carries a worker's messages to the primary in order, and the primary relays a broadcast before it
 * answers a request that came after it: once the round trip after a publish answers, the message is
 * on its way to every worker.
 */
export function clusterInvalidation (topic: string, roundTrip: () => Promise<unknown>, timeout: number): InvalidationChannel {
  const bus = clusterBus()
  const messages = new InvalidationMessages()
  const subscriptions: Array<() => void> = []
  return {
    publish: async (sid) => {
      bus.broadcast(topic, messages.encode(sid))
      await bounded('invalidation publish', roundTrip(), timeout)
    },
    subscribe: (onInvalidate, onListening) => {
      subscriptions.push(bus.on(topic, (message: string) => { messages.receive(message, onInvalidate) }))
      onListening(true)
    },
    close: async () => { for (const unsubscribe of subscriptions.splice(0)) unsubscribe() }
  }
}
