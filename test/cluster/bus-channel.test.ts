import { test } from 'tap'
import { busChannel, type BroadcastBus } from '../../plugins/cluster/index.js'
import type { BusListener } from '../../plugins/cluster/bus.js'
import { standaloneBus } from '../../plugins/cluster/process-bus.js'

/** A bus of the primary's shape that records broadcasts and lets a test deliver one from any process. */
function recordingBus (): BroadcastBus & { sent: unknown[][], deliver: (data: unknown, workerId: number) => void } {
  const listeners: BusListener[] = []
  const sent: unknown[][] = []
  return {
    sent,
    broadcast: (topic, data) => { sent.push([topic, data]) },
    on: (_topic, listener) => {
      listeners.push(listener)
      return () => { listeners.splice(listeners.indexOf(listener), 1) }
    },
    deliver: (data, workerId) => { for (const l of [...listeners]) l(data, { workerId }) }
  }
}

test('a channel publishes as a broadcast and hears the other processes only', async (t) => {
  const bus = recordingBus()
  const channel = busChannel<string | undefined>('cors:invalidate', bus)
  const heard: Array<string | undefined> = []
  const unsubscribe = channel.subscribe((origin) => { heard.push(origin) })
  channel.publish('https://app.example')
  t.strictSame(bus.sent, [['cors:invalidate', 'https://app.example']])
  bus.deliver('https://app.example', 0)
  t.strictSame(heard, [], 'this process (not a worker: id 0) does not hear itself')
  bus.deliver('https://other.example', 3)
  bus.deliver(undefined, 2)
  t.strictSame(heard, ['https://other.example', undefined], 'the other processes are heard')
  unsubscribe()
  bus.deliver('https://late.example', 3)
  t.equal(heard.length, 2, 'unsubscribed')
})

test('outside a cluster, the channel over the process bus hears nobody: there is no other process', async (t) => {
  const channel = busChannel<string>('bus-channel.test')
  const standalone = busChannel<string>('bus-channel.test', standaloneBus())
  const heard: string[] = []
  channel.subscribe((data) => { heard.push(data) })
  standalone.subscribe((data) => { heard.push(data) })
  channel.publish('a')
  standalone.publish('b')
  await new Promise((resolve) => setImmediate(resolve))
  t.strictSame(heard, [])
})
