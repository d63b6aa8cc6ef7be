import type { SessionStore } from '../contract.js'
import type { BreakerOptions, Serializer, StoreLogger } from '../options.js'
import type { SessionCookieRecord } from '../record.js'

/** The few assertions the cases use; both adapters map their runner's onto these. */
export interface Assert {
  /** Strict equality (`===`, `Object.is` for NaN). */
  equal: (actual: unknown, expected: unknown, message?: string) => unknown
  /** Strict deep equality. */
  deepEqual: (actual: unknown, expected: unknown, message?: string) => unknown
  ok: (value: unknown, message?: string) => unknown
}

/**
 * What the suite hands to the store factory. `now` is the suite's fake clock: the store must take
 * its time from it. fastify-fleet's stores accept the whole object as options:
 * `(ctx) => new MemoryStore(ctx)`.
 */
export interface StoreContext {
  now: () => number
  /** Seconds a session without cookie expiry lives (the suite's `ttl` option). */
  ttl: number
  /** Only in the cases that check them (with `fleet: true`). */
  timeout?: number
  serializer?: Serializer
  logger?: StoreLogger
  /** `false` in the cases that count failures one by one; the breaker case's own settings there. */
  breaker?: false | BreakerOptions
}

/** Builds a fresh store for one case; the suite closes it at the end of the case. */
export type StoreFactory = (ctx: StoreContext) => SessionStore | Promise<SessionStore>

/** One case: its name, why it is skipped (if it is), and its body. */
export interface CaseSpec {
  name: string
  skip?: string
  body: (h: Harness, assert: Assert) => Promise<void>
}

/** The suite's settings, filled in. */
export interface Settings {
  fleet: boolean
  ttl: number
  largePayloadBytes: number
  hangingStore: StoreFactory | undefined
  failingStore: StoreFactory | undefined
  /** Whether the store lists its sessions; `false`: `length`, `ids` and `clear` are refused (`listing` option). */
  listing: boolean
}

/** The code with which a store that cannot list its sessions refuses `length`, `ids` and `clear`. */
export const UNSUPPORTED = 'FST_FLEET_SESSION_UNSUPPORTED'

/** Whether `op` lists the sessions (refused by a store with `listing: false`). */
export const isListing = (op: string): boolean => op === 'length' || op === 'ids' || op === 'clear'

/**
 * A fake clock that starts at the real time, rounded up to a whole second (so the expiries of the
 * cases are whole seconds, which a backend that keeps seconds, such as MySqlStore, holds exactly),
 * and moves only when told.
 */
export class FakeClock {
  #time = Math.ceil(Date.now() / 1000) * 1000
  readonly now = (): number => this.#time
  advance (ms: number): void {
    this.#time += ms
  }
}

/** What one case works with: the clock, and the stores it builds (closed when the case ends). */
export class Harness {
  readonly clock = new FakeClock()
  readonly settings: Settings
  readonly #make: StoreFactory
  readonly #stores: SessionStore[] = []
  #sids = 0

  constructor (make: StoreFactory, settings: Settings) {
    this.#make = make
    this.settings = settings
  }

  /** A store from the factory (or `make`), with `extra` context options. */
  async store (extra: Partial<StoreContext> = {}, make: StoreFactory = this.#make): Promise<SessionStore> {
    const store = await make({ now: this.clock.now, ttl: this.settings.ttl, ...extra })
    this.#stores.push(store)
    return store
  }

  /** A session id unique to this run (stores on a shared backend see no collisions). */
  sid (label = 's'): string {
    return `conformance-${label}-${process.pid}-${Date.now().toString(36)}-${++this.#sids}`
  }

  /** A cookie as `@fastify/session` writes it: expiring in `maxAge` ms (`null`: a browser-session cookie). */
  cookie (maxAge: number | null = 3_600_000): SessionCookieRecord {
    return {
      expires: maxAge === null ? null : new Date(this.clock.now() + maxAge),
      originalMaxAge: maxAge,
      sameSite: null,
      secure: false,
      path: '/',
      httpOnly: true,
      domain: null
    }
  }

  async close (): Promise<void> {
    for (const store of this.#stores.splice(0)) {
      // a store under test may fail to close (a hanging backend): the case has been judged already
      await store.close().catch(() => {})
    }
  }
}

/** The error `run` rejects with, checked against `code` when the suite expects fastify-fleet's codes. */
export async function rejection (assert: Assert, settings: Settings, run: () => Promise<unknown>, code: string, label: string): Promise<Error | undefined> {
  let failure: unknown
  try {
    await run()
  } catch (err) {
    failure = err
  }
  assert.ok(failure instanceof Error, `${label}: rejects with an Error`)
  if (settings.fleet) assert.equal(Object(failure).code, code, `${label}: error code`)
  return failure as Error | undefined
}

/** The outcome of a callback-style call: what the method returned and how the callback was called. */
export interface CallbackOutcome {
  returned: unknown
  calls: unknown[][]
}

/** Calls `start` with a callback; resolves once it was called (and a tick more, to catch a second call). */
export async function viaCallback (start: (callback: (...args: unknown[]) => void) => unknown): Promise<CallbackOutcome> {
  const calls: unknown[][] = []
  let done!: () => void
  const called = new Promise<void>((resolve) => { done = resolve })
  const returned = start((...args) => { calls.push(args); done() })
  await called
  await new Promise((resolve) => setImmediate(resolve))
  return { returned, calls }
}

/** A logger that records what it is given. */
export function recordingLogger (): StoreLogger & { lines: Array<{ level: string, obj: Record<string, unknown>, msg: string }> } {
  const lines: Array<{ level: string, obj: Record<string, unknown>, msg: string }> = []
  const at = (level: string) => (obj: object, msg: string): void => { lines.push({ level, obj: obj as Record<string, unknown>, msg }) }
  return { lines, warn: at('warn'), error: at('error') }
}
