import type { Worker } from 'node:cluster'
import { FST_FLEET_CLUSTER_BUS_CLOSED } from './errors.js'
import {
  BusLink, isBatch, PRIMARY, Subscriptions, type Batch, type BusHandler, type BusListener, type BusOrigin, type BusRequestOptions
} from './bus.js'

/** The IPC bus as the primary sees it. */
export interface PrimaryBus {
  readonly role: 'primary'
  /** Asks worker `workerId` (its `cluster.worker.id`); rejects with a coded error on timeout or when it is gone. */
  request: <R = unknown>(workerId: number, topic: string, data?: unknown, options?: BusRequestOptions) => Promise<R>
  /** Sends `data` to the listeners of `topic` in every worker and in the primary. */
  broadcast: (topic: string, data?: unknown) => void
  /** Answers the workers' requests on `topic` (one handler per topic); returns an unsubscribe function. */
  handle: <T = any, R = unknown>(topic: string, handler: BusHandler<T, R>) => () => void
  /** Listens to the broadcasts of `topic` (sent by the primary or by any worker). */
  on: <T = any>(topic: string, listener: BusListener<T>) => () => void
}

/** The primary's end of the bus: one link per worker, broadcasts relayed to all. */
export class PrimaryBusHub implements PrimaryBus {
  readonly role = 'primary' as const
  readonly #subs = new Subscriptions()
  readonly #links = new Map<number, BusLink>()

  constructor (private readonly onError: (err: unknown) => void) {}

  /** Starts carrying `worker`'s messages; they stop when it exits. */
  attach (worker: Worker): void {
    const from: BusOrigin = Object.freeze({ workerId: worker.id })
    const post = (batch: Batch): void => {
      if (!worker.isConnected()) {
        link.close(`worker ${worker.id} is gone`)
        return
      }
      worker.send(batch, undefined, (err: Error | null) => { if (err != null) link.close(`worker ${worker.id} is gone (${err.message})`) })
    }
    const link = new BusLink(post, this.#subs, from, 'primary', (topic, data) => this.broadcast(topic, data, from), this.onError)
    this.#links.set(worker.id, link)
    worker.on('message', (message: unknown) => { if (isBatch(message)) link.receive(message) })
    const gone = (): void => {
      link.close(`worker ${worker.id} exited`)
      this.#links.delete(worker.id)
    }
    worker.once('disconnect', gone)
    worker.once('exit', gone)
  }

  async request<R = unknown>(workerId: number, topic: string, data?: unknown, options?: BusRequestOptions): Promise<R> {
    const link = this.#links.get(workerId)
    if (link === undefined) throw new FST_FLEET_CLUSTER_BUS_CLOSED(topic, `there is no worker ${workerId}`)
    return await link.request<R>(topic, data, options)
  }

  broadcast (topic: string, data?: unknown, from: BusOrigin = PRIMARY): void {
    for (const link of this.#links.values()) link.cast(topic, data, from)
    setImmediate(() => this.#subs.deliver(topic, data, from, this.onError))
  }

  handle<T = any, R = unknown>(topic: string, handler: BusHandler<T, R>): () => void {
    return this.#subs.handle(topic, handler)
  }

  on<T = any>(topic: string, listener: BusListener<T>): () => void {
    return this.#subs.on(topic, listener)
  }
}
