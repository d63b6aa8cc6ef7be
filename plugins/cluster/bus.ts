import {
  FST_FLEET_CLUSTER_BUS_CLOSED, FST_FLEET_CLUSTER_BUS_NO_HANDLER, FST_FLEET_CLUSTER_BUS_REMOTE, FST_FLEET_CLUSTER_BUS_TIMEOUT,
  FST_FLEET_CLUSTER_BUS_UNSENDABLE
} from './errors.js'
import { PendingCalls, type DeadlineEntry } from '../internal/pending-calls.js'
import { isThenable } from '../internal/thenable.js'

/** Who sent a bus message: the primary (`workerId: 0`) or a worker of the cluster. */
export interface BusOrigin {
  workerId: number
}

/** Answers the requests of one topic; what it returns (or resolves to) is the answer. */
export type BusHandler<T = any, R = unknown> = (data: T, from: BusOrigin) => R | Promise<R>
/** Receives the broadcasts of one topic. */
export type BusListener<T = any> = (data: T, from: BusOrigin) => void

/** Options of one request. */
export interface BusRequestOptions {
  /**
   * Milliseconds to wait for the answer before failing with `FST_FLEET_CLUSTER_BUS_TIMEOUT`.
   * @default 5000
   */
  timeout?: number
}

/**
 * The IPC bus as a worker (or a process running alone) sees it: requests answered by the primary,
 * broadcasts delivered to every process of the cluster, requests from the primary answered here.
 * Messages travel as JSON over the cluster's IPC channel, batched per event-loop turn.
 */
export interface FleetBus {
  /** `worker` in a worker of a cluster, `standalone` otherwise (handlers of this process answer). */
  readonly role: 'worker' | 'standalone'
  /** Asks the primary; rejects with a coded error on timeout, when nobody handles the topic, or when the primary is gone. */
  request: <R = unknown>(topic: string, data?: unknown, options?: BusRequestOptions) => Promise<R>
  /** Sends `data` to the listeners of `topic` in every process of the cluster, this one included. */
  broadcast: (topic: string, data?: unknown) => void
  /** Answers the primary's requests on `topic` (one handler per topic); returns an unsubscribe function. */
  handle: <T = any, R = unknown>(topic: string, handler: BusHandler<T, R>) => () => void
  /** Listens to the broadcasts of `topic`; returns an unsubscribe function. */
  on: <T = any>(topic: string, listener: BusListener<T>) => () => void
}

export const DEFAULT_BUS_TIMEOUT = 5000
/** The primary's id on the bus. */
export const PRIMARY: BusOrigin = Object.freeze({ workerId: 0 })

/** A message on the wire. `fleet` marks ours among the other messages of the IPC channel. */
export type Envelope =
  | { k: 'q', i: number, t: string, d?: unknown }
  | { k: 'r', i: number, d?: unknown, e?: { message: string, code?: string } }
  | { k: 'b', t: string, d?: unknown, o?: number }
export interface Batch { fleet: 1, m: Envelope[] }

export const isBatch = (message: unknown): message is Batch =>
  typeof message === 'object' && message !== null && (message as { fleet?: unknown }).fleet === 1 && Array.isArray((message as Batch).m)

interface Pending extends DeadlineEntry {
  topic: string
  timeout: number
  resolve: (value: any) => void
  reject: (err: Error) => void
}

/** The handlers and listeners of one process, shared by its links. */
export class Subscriptions {
  readonly handlers = new Map<string, BusHandler>()
  readonly listeners = new Map<string, Set<BusListener>>()

  handle (topic: string, handler: BusHandler): () => void {
    if (this.handlers.has(topic)) throw new TypeError(`fastify-fleet/cluster: bus topic "${topic}" already has a handler`)
    this.handlers.set(topic, handler)
    return () => { if (this.handlers.get(topic) === handler) this.handlers.delete(topic) }
  }

  on (topic: string, listener: BusListener): () => void {
    let set = this.listeners.get(topic)
    if (set === undefined) this.listeners.set(topic, set = new Set())
    set.add(listener)
    return () => { set.delete(listener) }
  }

  /** Delivers a broadcast; a listener that throws does not stop the others (its error goes to `onError`). */
  deliver (topic: string, data: unknown, from: BusOrigin, onError: (err: unknown) => void): void {
    const set = this.listeners.get(topic)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        listener(data, from)
      } catch (err) {
        onError(err)
      }
    }
  }

  /**
   * Runs the handler of `topic` and gives what it returns (a value, or a promise of it); a missing
   * handler, or a handler that throws, throws.
   */
  answer (topic: string, data: unknown, from: BusOrigin, where: string): unknown {
    const handler = this.handlers.get(topic)
    if (handler === undefined) throw new FST_FLEET_CLUSTER_BUS_NO_HANDLER(topic, where)
    return handler(data, from)
  }
}

const remoteError = (topic: string, e: { message: string, code?: string }): Error => {
  if (e.code === 'FST_FLEET_CLUSTER_BUS_NO_HANDLER') return Object.assign(new Error(e.message), { code: e.code })
  const err = new FST_FLEET_CLUSTER_BUS_REMOTE(topic, e.message)
  if (e.code !== undefined) Object.assign(err, { remoteCode: e.code })
  return err
}

/**
 * One end of a link between two processes: numbered requests with timeouts, answers, broadcasts.
 * Outgoing messages wait for the end of the event-loop turn and leave as one IPC message.
 */
export class BusLink {
  readonly #pending = new PendingCalls<Pending>((p) => p.reject(new FST_FLEET_CLUSTER_BUS_TIMEOUT(p.topic, p.timeout)))
  #queue: Envelope[] = []
  #closed: string | null = null

  /**
   * `post` sends one batch (throws if it cannot be serialized); `local` are this process's
   * subscriptions; `peer` is the origin of what arrives here; `where` names this side in errors.
   */
  constructor (
    private readonly post: (batch: Batch) => void,
    private readonly local: Subscriptions,
    private readonly peer: BusOrigin,
    private readonly where: string,
    private readonly onBroadcast: (topic: string, data: unknown, from: BusOrigin) => void,
    private readonly onError: (err: unknown) => void
  ) {}

  get pending (): number { return this.#pending.size }

  request<R> (topic: string, data: unknown, options?: BusRequestOptions): Promise<R> {
    const timeout = options?.timeout ?? DEFAULT_BUS_TIMEOUT
    if (this.#closed !== null) return Promise.reject(new FST_FLEET_CLUSTER_BUS_CLOSED(topic, this.#closed))
    return new Promise<R>((resolve, reject) => {
      const id = this.#pending.add({ topic, timeout, deadline: performance.now() + timeout, resolve, reject })
      this.#enqueue({ k: 'q', i: id, t: topic, d: data })
    })
  }

  /** A broadcast; `origin` is the worker it started from, when this end only relays it. */
  cast (topic: string, data: unknown, origin?: BusOrigin): void {
    if (this.#closed === null) this.#enqueue(origin === undefined ? { k: 'b', t: topic, d: data } : { k: 'b', t: topic, d: data, o: origin.workerId })
  }

  /** Handles a batch from the peer. */
  receive (batch: Batch): void {
    for (const envelope of batch.m) {
      if (envelope.k === 'r') this.#settle(envelope)
      else if (envelope.k === 'q') this.#answer(envelope)
      else this.onBroadcast(envelope.t, envelope.d, envelope.o === undefined ? this.peer : { workerId: envelope.o })
    }
  }

  /** The peer is gone: pending requests fail, later ones fail at once. */
  close (reason: string): void {
    if (this.#closed !== null) return
    this.#closed = reason
    this.#queue = []
    for (const p of this.#pending.takeAll()) p.reject(new FST_FLEET_CLUSTER_BUS_CLOSED(p.topic, reason))
  }

  #settle (envelope: Extract<Envelope, { k: 'r' }>): void {
    const p = this.#pending.take(envelope.i)
    if (p === undefined) return // answered after its timeout
    if (envelope.e === undefined) p.resolve(envelope.d)
    else p.reject(remoteError(p.topic, envelope.e))
  }

  #answer (envelope: Extract<Envelope, { k: 'q' }>): void {
    const reply = (answer: Extract<Envelope, { k: 'r' }>): void => { if (this.#closed === null) this.#enqueue(answer) }
    const fail = (err: Error): void => reply({ k: 'r', i: envelope.i, e: { message: err?.message ?? String(err), code: (err as { code?: string } | undefined)?.code } })
    let value: unknown
    try {
      value = this.local.answer(envelope.t, envelope.d, this.peer, this.where)
    } catch (err) {
      fail(err as Error)
      return
    }
    // a handler that answers at once is answered in this turn, without a promise
    if (isThenable(value)) value.then((settled) => reply({ k: 'r', i: envelope.i, d: settled }), fail)
    else reply({ k: 'r', i: envelope.i, d: value })
  }

  #enqueue (envelope: Envelope): void {
    this.#queue.push(envelope)
    if (this.#queue.length === 1) setImmediate(() => this.#flush())
  }

  #flush (): void {
    const queue = this.#queue
    this.#queue = []
    if (queue.length === 0) return
    try {
      this.post({ fleet: 1, m: queue })
    } catch {
      // something in the batch cannot be serialized: send one by one, failing only the culprits
      for (const envelope of queue) {
        try {
          this.post({ fleet: 1, m: [envelope] })
        } catch (err) {
          this.#unsendable(envelope, err as Error)
        }
      }
    }
  }

  #unsendable (envelope: Envelope, err: Error): void {
    if (envelope.k === 'q') {
      const p = this.#pending.take(envelope.i)
      if (p === undefined) return // it timed out before its batch left
      p.reject(new FST_FLEET_CLUSTER_BUS_UNSENDABLE(p.topic, err.message, { cause: err }))
      return
    }
    if (envelope.k === 'r') {
      // our answer cannot travel: tell the asker why instead
      this.#enqueue({ k: 'r', i: envelope.i, e: { message: `the answer cannot be sent: ${err.message}`, code: 'FST_FLEET_CLUSTER_BUS_UNSENDABLE' } })
      return
    }
    this.onError(new FST_FLEET_CLUSTER_BUS_UNSENDABLE(envelope.t, err.message, { cause: err }))
  }
}
