import type { StoreCallback } from './async-call.js'
import type { SessionInput, SessionRecord } from './record.js'

export type { StoreCallback } from './async-call.js'

/**
 * The contract every store of fastify-fleet/session fulfils (and the conformance suite checks):
 * `@fastify/session`'s callback methods `get`, `set` and `destroy`, each returning a promise when
 * called without a callback, plus `touch`, `length`, `clear`, `ids` and `close`.
 *
 * - `get` answers `null` for an unknown, expired or unreadable session (never an `ENOENT` error);
 *   the session comes back as a fresh plain object, its cookie's `expires` an ISO string.
 * - `set` stores a copy of the session, expiring at its cookie's `expires` (else after `ttl`);
 *   an already expired cookie removes the session.
 * - `touch` moves the expiry to what the session's cookie says, without rewriting the data.
 */
export interface SessionStore {
  get: ((sid: string) => Promise<SessionRecord | null>) & ((sid: string, callback: StoreCallback<SessionRecord | null>) => void)
  set: ((sid: string, session: SessionInput) => Promise<void>) & ((sid: string, session: SessionInput, callback: StoreCallback) => void)
  destroy: ((sid: string) => Promise<void>) & ((sid: string, callback: StoreCallback) => void)
  touch: ((sid: string, session: SessionInput) => Promise<void>) & ((sid: string, session: SessionInput, callback: StoreCallback) => void)
  /** How many live sessions the store holds. */
  length: () => Promise<number>
  /** Removes every session of this store. */
  clear: () => Promise<void>
  /** The ids of the live sessions. */
  ids: () => Promise<string[]>
  /** Releases what the store created itself; later calls fail. */
  close: () => Promise<void>
}
