/**
 * The interface a session backend implements: where the serialized sessions live (a Map, the
 * cluster's primary, Redis, a table...). `BackendStore` (`store.ts`) turns a backend into a store
 * `@fastify/session` can use, and does everything that is not about where the data lives: the
 * callback and promise API, id checks, serialization, expiry from the cookie, timeouts, corrupt data
 * read as "no session", write elision. A backend only stores text under ids, until an expiry.
 */

import type { SessionRecord } from './record.js'

/** A value, or a promise of it: a backend may answer each call either way. */
export type MaybePromise<T> = T | Promise<T>

/** What a backend holds under a session id. */
export interface StoredSession {
  /** The serialized session, as written. */
  text: string
  /** When the backend drops it, in milliseconds since the epoch; `null` if it does not expire. */
  expiresAt: number | null
}

/**
 * Where a store keeps its sessions. Every method may answer synchronously or with a promise; what it
 * throws or rejects with reaches the store's caller as `FST_FLEET_SESSION_BACKEND` (an error whose
 * code starts with `FST_FLEET_SESSION_` passes as it is). A promise is bounded by the store's
 * `timeout`, unless the backend has `isTimeout`.
 */
export interface SessionBackend {
  /**
   * The session stored under `sid`, or `null`. An entry whose `expiresAt` has passed may be returned:
   * the store treats it as no session and removes it.
   */
  read: (sid: string) => MaybePromise<StoredSession | null>
  /**
   * Stores `text` under `sid` until `expiresAt` (always in the future), replacing any entry.
   * `record`: the session `text` serializes, for a backend that needs to know what the text says
   * without parsing it again (MemcachedStore: whether its cookie states `expiresAt`); not to change.
   */
  write: (sid: string, text: string, expiresAt: number, record: Readonly<SessionRecord>) => MaybePromise<void>
  /** Moves the expiry of `sid`'s entry without rewriting it; `false` when there is no entry. */
  refresh: (sid: string, expiresAt: number) => MaybePromise<boolean>
  /** Removes `sid`'s entry, if any. */
  remove: (sid: string) => MaybePromise<void>
  /** The ids of the live entries. */
  ids: () => MaybePromise<string[]>
  /** Removes every entry of this backend. */
  clear: () => MaybePromise<void>
  /** Releases what the backend created itself (connections it opened, memory); called once. */
  close: () => MaybePromise<void>

  /**
   * Optional: how many live entries there are, for a backend that counts for less than listing
   * them. Without it, `length()` is `ids().length`.
   */
  count?: () => MaybePromise<number>
  /**
   * Optional: the text alone, for a backend where that costs less than `read` (RedisStore: one
   * `GETEX` instead of a script that also reads the expiry). The store uses it only for a session
   * whose expiry it already knows, because this process read or wrote it.
   */
  readText?: (sid: string) => MaybePromise<string | null>
  /**
   * Optional: for a backend whose calls give up by themselves after the store's `timeout`, which of
   * its errors say so (the caller then gets `FST_FLEET_SESSION_TIMEOUT`). With it, the store sets no
   * timer of its own around each call.
   */
  isTimeout?: (err: unknown) => boolean
}
