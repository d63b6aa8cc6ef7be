import { LRUCache } from 'lru-cache'
import { copyFields } from './record.js'

/** The symbols under which a `@fastify/session` Session keeps its id and its signed id. */
interface SessionKeys {
  id: symbol
  signed: symbol
}

/** The symbol keys of `session` named `sessionId` and `encryptedSessionId`, or `null`. */
export function sessionKeys (session: object): SessionKeys | null {
  let id: symbol | undefined
  let signed: symbol | undefined
  for (const key of Object.getOwnPropertySymbols(session)) {
    if (key.description === 'sessionId') id = key
    else if (key.description === 'encryptedSessionId') signed = key
  }
  return id === undefined || signed === undefined ? null : { id, signed }
}

/**
 * The signed ids (cookie values) of the sessions this process wrote, so that reading one back does
 * not cost `@fastify/session` an HMAC. When the object a store's `get` gives carries the id and the
 * signed id under the Session's own symbols, `@fastify/session` reuses that signed id instead of
 * signing the id again (what makes its own MemoryStore, which hands back the live objects, fast).
 * A store that keeps copies learns both symbols and the signed id from the Session objects `set`
 * receives, and puts them on the records it reads back, as the Session holds them. A signed id
 * depends on the id and the secret alone, so it stays right whatever the session holds; it is
 * remembered for the last `max` sessions written, and forgotten when one is destroyed.
 */
export class SignedIds {
  #keys: SessionKeys | null = null
  readonly #signed: LRUCache<string, string>

  constructor (max: number) {
    this.#signed = new LRUCache({ max })
  }

  /** Remembers the signed id of `session` when it is a Session whose id is `sid`. */
  learn (sid: string, session: object): void {
    // looked for until a Session comes (a plain object has none of the symbols)
    const keys = this.#keys ?? (this.#keys = sessionKeys(session))
    if (keys === null) return
    const source = session as Record<symbol, unknown>
    const signed = source[keys.signed]
    if (source[keys.id] !== sid || typeof signed !== 'string') return
    if (this.#signed.get(sid) !== signed) this.#signed.set(sid, signed)
  }

  /**
   * `record` as `get` hands it out: with the id and the signed id of `sid` under the Session's
   * symbols when known. Those are set first on a fresh object and the fields copied in after, as
   * `@fastify/session`'s Session sets them (plain assignments): V8 adds a property to an object
   * `JSON.parse` made at several times the cost. Like the Session's, they are left out by
   * `Object.keys`, `for...in` and JSON, not by a spread.
   */
  lend<T extends object> (sid: string, record: T): T {
    const keys = this.#keys
    const signed = keys === null ? undefined : this.#signed.get(sid)
    if (keys === null || signed === undefined) return record
    const target: Record<string | symbol, unknown> = {}
    target[keys.id] = sid
    target[keys.signed] = signed
    return copyFields(target, record) as T
  }

  forget (sid: string): void {
    this.#signed.delete(sid)
  }

  clear (): void {
    this.#signed.clear()
  }
}
