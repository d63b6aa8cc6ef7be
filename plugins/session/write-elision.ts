import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { StoredExpiry } from './record.js'

/** How many sessions read by this process are remembered for write elision. */
export const READ_MEMO_MAX = 10_000

/** Stored texts up to this many characters are kept as they are in a mark; longer ones as a hash. */
export const FINGERPRINT_TEXT_MAX = 512

/** What this process read of a session: a fingerprint of the stored text and its expiry. */
export interface ReadMark extends StoredExpiry {
  /** The stored text as read, or its SHA-256 when longer than 512 characters; `''` once this process wrote something else. */
  fingerprint: string
  /** Whether `fingerprint` is a hash. */
  hashed: boolean
  /** The backend's expiry when read (moved by each refresh since); `null` if it had none. */
  expiresAt: number | null
}

/** Whether `text` is what `mark` remembers. */
export const matches = (mark: ReadMark, text: string): boolean =>
  (mark.hashed ? hash('sha256', text, 'base64') : text) === mark.fingerprint

/**
 * The sessions this process read last (bounded, least recently used first out), so that `set`
 * can tell a session that comes back unchanged from one that changed. A write through this store
 * voids the mark of its id (empty fingerprint) and a destroy drops it: a mark only ever matches
 * what the backend held when it was read.
 */
export class ReadMemo {
  readonly #marks = new LRUCache<string, ReadMark>({ max: READ_MEMO_MAX })

  /**
   * Remembers `text` as read for `sid`, with the cookie's stored expiry fields and the backend's
   * expiry. Texts up to 512 characters are kept as they are (a string compare costs less than a
   * hash, and a MemoryStore mark shares the string it stores), longer ones as their SHA-256.
   */
  remember (sid: string, text: string, stored: StoredExpiry, expiresAt: number | null): void {
    const hashed = text.length > FINGERPRINT_TEXT_MAX
    this.#marks.set(sid, {
      fingerprint: hashed ? hash('sha256', text, 'base64') : text,
      hashed,
      expires: stored.expires,
      originalExpires: stored.originalExpires,
      expiresAt
    })
  }

  recall (sid: string): ReadMark | undefined {
    return this.#marks.get(sid)
  }

  forget (sid: string): void {
    this.#marks.delete(sid)
  }

  clear (): void {
    this.#marks.clear()
  }
}

/**
 * Whether an unchanged session may keep the stored expiry: the new one is not earlier, and less
 * than `min(touchAfter, lifetime / 10)` later.
 */
export function canSkipRefresh (storedAt: number, newAt: number, now: number, touchAfterMs: number): boolean {
  const ahead = newAt - storedAt
  return ahead >= 0 && ahead < Math.min(touchAfterMs, (newAt - now) / 10)
}
