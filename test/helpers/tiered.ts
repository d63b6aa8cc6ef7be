// Shared by the TieredStore tests: an invalidation channel in memory (a bus that several stores
// join, each message delivered when the test says so or at once), a fake clock, and a wait for a
// condition that an event of another process makes true.
import { setTimeout as sleep } from 'node:timers/promises'
import type { InvalidationChannel } from '../../plugins/session/invalidation.js'

/** One end of a `FakeBus`. */
export class FakeChannel implements InvalidationChannel {
  readonly published: Array<string | null> = []
  closed = false
  /** What `publish` rejects with, when set. */
  publishError: Error | null = null
  /** What `ping` does: answer, fail, or never answer. */
  pingAnswer: 'ok' | 'fail' | 'hang' = 'ok'
  pings = 0
  onInvalidate: (sid: string | null) => void = () => {}
  onListening: (listening: boolean) => void = () => {}

  constructor (private readonly bus: FakeBus) {}

  readonly publish = async (sid: string | null): Promise<void> => {
    if (this.publishError !== null) throw this.publishError
    this.published.push(sid)
    this.bus.send(this, sid)
  }

  readonly subscribe = (onInvalidate: (sid: string | null) => void, onListening: (listening: boolean) => void): void => {
    this.onInvalidate = onInvalidate
    this.onListening = onListening
  }

  // a method, not a bound function: the store must call it on the channel
  async ping (): Promise<void> {
    this.pings++
    if (this.pingAnswer === 'fail') throw new Error('no answer')
    if (this.pingAnswer === 'hang') await new Promise(() => {})
  }

  readonly close = async (): Promise<void> => {
    this.closed = true
  }
}

/** Channels that hear each other: each message reaches the other ends at once (or when `flush()` runs, with `hold`). */
export class FakeBus {
  readonly ends: FakeChannel[] = []
  readonly held: Array<() => void> = []
  hold = false

  channel (): FakeChannel {
    const end = new FakeChannel(this)
    this.ends.push(end)
    return end
  }

  send (from: FakeChannel, sid: string | null): void {
    for (const end of this.ends) {
      if (end === from) continue
      const deliver = (): void => { end.onInvalidate(sid) }
      if (this.hold) this.held.push(deliver)
      else deliver()
    }
  }

  flush (): void {
    for (const deliver of this.held.splice(0)) deliver()
  }
}

/** A clock that moves only when told. */
export function fakeClock (start = Date.UTC(2030, 0, 1)): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

/**
 * Resolves once `condition()` holds, checking every 2 ms (what makes it hold happens in another
 * connection or process: no event of this one says when); rejects after `timeout` ms.
 */
export async function until (condition: () => boolean | Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = performance.now() + timeout
  while (!await condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await sleep(2)
  }
}
