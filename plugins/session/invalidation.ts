/**
 * Invalidation: how the `TieredStore`s of several processes (and hosts) over one shared store tell
 * each other which sessions changed, so that none keeps serving its near copy of a changed or
 * destroyed session. A channel rides the shared store's own messaging (Redis pub/sub, PostgreSQL
 * `LISTEN`/`NOTIFY`, the cluster bus); `ChannelWatch` tracks whether it can vouch for the copies
 * right now, which only holds while it is sure to hear every message.
 */
import { randomBytes } from 'node:crypto'
import { FST_FLEET_SESSION_BACKEND, FST_FLEET_SESSION_TIMEOUT } from './errors.js'

/**
 * A channel between the processes that share a store: what one publishes, the others hear. Its
 * messages may be lost while it is not listening (a connection lost): it says so through
 * `onListening`, and the store then stops trusting its copies beyond `near.ttl`.
 */
export interface InvalidationChannel {
  /**
   * Tells the other subscribers of the channel (in other processes and in this one) that session
   * `sid` changed or was destroyed; `null`: every session (after `clear()`). Resolves once sent
   * (Redis: `PUBLISH` answered, by when the message is on its way to every subscriber).
   */
  publish: (sid: string | null) => Promise<void>
  /**
   * Starts listening; called once. `onInvalidate` gets what the others publish; `onListening(true)`
   * once every later message will be heard, `onListening(false)` as soon as some may be missed.
   */
  subscribe: (onInvalidate: (sid: string | null) => void, onListening: (listening: boolean) => void) => void
  /**
   * Optional: one round trip on the listening connection, rejecting when it does not answer (a
   * connection that failed silently). The store calls it every `near.ttl` seconds.
   */
  ping?: () => Promise<void>
  /** Stops listening and releases what the channel opened. */
  close: () => Promise<void>
}

/**
 * The messages of one end of a channel: `<origin> <sid>`, or `<origin>` alone for every session,
 * where `origin` is 16 random hex digits of this end. An end skips its own messages.
 */
export class InvalidationMessages {
  readonly origin = randomBytes(8).toString('hex')

  encode (sid: string | null): string {
    return sid === null ? this.origin : `${this.origin} ${sid}`
  }

  /** Hands the id that `message` names (`null`: every session) to `deliver`, unless it is this end's own. */
  receive (message: string, deliver: (sid: string | null) => void): void {
    const match = MESSAGE.exec(message)
    if (match === null || match[1] === this.origin) return
    deliver(match[2] ?? null)
  }
}

const MESSAGE = /^([0-9a-f]{16})(?: ([^]+))?$/

/**
 * `promise` bounded by `timeout` ms, its failure coded as a store call's: `FST_FLEET_SESSION_TIMEOUT`
 * or `FST_FLEET_SESSION_BACKEND` (named `op`).
 */
export async function bounded<T> (op: string, promise: Promise<T>, timeout: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => { reject(new FST_FLEET_SESSION_TIMEOUT(op, timeout)) }, timeout)
  })
  try {
    return await Promise.race([promise.catch((err: unknown) => {
      throw new FST_FLEET_SESSION_BACKEND(op, (err as Error)?.message ?? String(err), { cause: err })
    }), expired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Whether a channel vouches for the copies made now: it does while it listens (it said so, and its
 * last ping answered). Each time it starts listening again a new epoch begins, and copies of an
 * earlier epoch are no longer vouched for: messages about them may have been lost in between.
 */
export class ChannelWatch {
  #epoch = 0
  #subscribed = false
  #answering = true
  #timer: NodeJS.Timeout | undefined
  #pinging = false

  /** `ping` (the channel's, if any) runs every `interval` ms and fails after `timeout` ms. */
  constructor (private readonly ping: (() => Promise<void>) | undefined, private readonly interval: number, private readonly timeout: number) {}

  /** The epoch copies made now belong to; `null` while the channel does not listen. */
  get epoch (): number | null {
    return this.#subscribed && this.#answering ? this.#epoch : null
  }

  /** Whether the channel vouches for a copy made in `epoch`. */
  vouches (epoch: number | null): boolean {
    return epoch !== null && epoch === this.epoch
  }

  /** What the channel says (`onListening`); each `true` begins a new epoch (it may follow a reconnection). */
  listening (listening: boolean): void {
    this.#subscribed = listening
    if (listening) this.#epoch++
  }

  /** Starts the pings (only for a channel that has `ping`). */
  start (): void {
    if (this.ping === undefined) return
    this.#timer = setInterval(() => { this.#beat() }, this.interval)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#subscribed = false
  }

  #beat (): void {
    if (this.#pinging || !this.#subscribed) return
    this.#pinging = true
    bounded('invalidation ping', (this.ping as () => Promise<void>)(), this.timeout).then(() => {
      // answering again after a silence: what was said meanwhile may be lost
      if (!this.#answering) this.#epoch++
      this.#answering = true
    }, () => { this.#answering = false }).finally(() => { this.#pinging = false })
  }
}
