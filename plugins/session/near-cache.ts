/**
 * The near cache of `TieredStore`: copies of recent sessions in this process, each exactly what the
 * inner store answered (or would answer after this process's write), kept as data and handed out
 * as a fresh copy on every hit, never as a live object. It also keeps a read or a write that was
 * overtaken (by a write, an invalidation or a clear that started meanwhile) from leaving an old
 * copy behind.
 */
import { LRUCache } from 'lru-cache'
import { compareJson, copyJson } from './json-record.js'
import { JSON_SERIALIZER, type Serializer } from './options.js'
import { checkRecord, copyFields, type SessionRecord } from './record.js'

/** One session as the near cache keeps it. */
export interface NearCopy {
  /** The session as JSON data (with the default serializer); never handed out, only copied. */
  parsed: SessionRecord | null
  /** The session as the serializer's text (with any other serializer), parsed on every hit. */
  text: string | null
  /** When the session expires: its cookie's expiry, or the one this process wrote; `null` when unknown. */
  expiresAt: number | null
  /** When the inner store answered it: the start of the read or write that brought it. */
  since: number
  /** The invalidation channel's epoch that vouches for it (`ChannelWatch`); `null`: none. */
  epoch: number | null
}

/** The reads and writes of one session under way. */
interface Flight {
  reads: number
  writes: number
  /** Moves on every write and invalidation: a read that saw another version does not keep its answer. */
  version: number
  /** The last write started. */
  lastWrite: object | null
}

/** A read under way (from `startRead`). */
export interface ReadTicket {
  readonly sid: string
  readonly flight: Flight
  readonly version: number
  readonly clears: number
}

/** A write under way (from `startWrite`). */
export interface WriteTicket {
  readonly sid: string
  readonly flight: Flight
  readonly token: object
  readonly clears: number
}

export class NearCache {
  readonly #copies: LRUCache<string, NearCopy>
  readonly #serializer: Serializer
  readonly #json: boolean
  readonly #flights = new Map<string, Flight>()
  /** Moves on every `clear()`. */
  #clears = 0

  constructor (max: number, serializer: Serializer) {
    this.#copies = new LRUCache({ max })
    this.#serializer = serializer
    this.#json = serializer === JSON_SERIALIZER
  }

  get size (): number {
    return this.#copies.size
  }

  /** The copy of `sid`, marked as recently used. */
  get (sid: string): NearCopy | undefined {
    return this.#copies.get(sid)
  }

  /** A fresh object of the session `copy` holds. */
  handOut (copy: NearCopy): SessionRecord {
    // a copy of the kept parse costs a quarter of a parse of its text (measured: 0.25 against 1.1 µs)
    return copy.parsed !== null ? copyJson(copy.parsed) : this.#serializer.parse(copy.text as string) as SessionRecord
  }

  /**
   * A copy of what the inner store's `get` answered (its own fields only: the signed-id symbols
   * are left out), expiring at `expiresAt`.
   */
  fromRead (record: SessionRecord, expiresAt: number | null, since: number, epoch: number | null): NearCopy {
    const fields = copyFields({}, record) as SessionRecord
    if (this.#json) return { parsed: copyJson(fields), text: null, expiresAt, since, epoch }
    return { parsed: null, text: this.#serializer.stringify(fields), expiresAt, since, epoch }
  }

  /**
   * A copy of what the inner store answers once `record` (a snapshot of the session `set` got) is
   * written; `null` when it answers no session (the text does not read back as one).
   */
  fromWrite (record: SessionRecord, expiresAt: number, since: number, epoch: number | null): NearCopy | null {
    const text = this.#serializer.stringify(record)
    const parsed: unknown = this.#serializer.parse(text)
    if (checkRecord(parsed).problem !== null) return null
    if (this.#json) return { parsed: parsed as SessionRecord, text: null, expiresAt, since, epoch }
    return { parsed: null, text, expiresAt, since, epoch }
  }

  /**
   * Whether `record` holds the data of `copy`, its cookie's expiry aside (what a rolling cookie
   * moves on every request): `false` when it differs or only serializing could tell.
   */
  sameData (record: SessionRecord, copy: NearCopy): boolean {
    try {
      const parsed = copy.parsed ?? this.#serializer.parse(copy.text as string) as SessionRecord
      return compareJson(record, parsed) === 'same'
    } catch {
      // a getter of the session that throws: a write will say what becomes of it
      return false
    }
  }

  startRead (sid: string): ReadTicket {
    const flight = this.#flight(sid)
    flight.reads++
    return { sid, flight, version: flight.version, clears: this.#clears }
  }

  /**
   * A read ended: `copy` is kept unless a write, an invalidation or a clear came meanwhile; `null`
   * (no session) drops the copy; `undefined` (the read failed) changes nothing.
   */
  endRead (ticket: ReadTicket, copy: NearCopy | null | undefined): void {
    const { sid, flight } = ticket
    flight.reads--
    if (copy === null) this.#copies.delete(sid)
    else if (copy !== undefined && flight.version === ticket.version && flight.writes === 0 && ticket.clears === this.#clears) this.#copies.set(sid, copy)
    this.#land(sid, flight)
  }

  /** A write of `sid` starts: the reads under way will not keep what they get. */
  startWrite (sid: string): WriteTicket {
    const flight = this.#flight(sid)
    flight.writes++
    flight.version++
    const token = {}
    flight.lastWrite = token
    return { sid, flight, token, clears: this.#clears }
  }

  /**
   * A write ended: `copy` (what it wrote) is kept when it was the only write under way and the
   * last one started; otherwise (another write may land after it, or it failed: `null`) the copy
   * is dropped.
   */
  endWrite (ticket: WriteTicket, copy: NearCopy | null): void {
    const { sid, flight } = ticket
    flight.writes--
    flight.version++
    if (copy !== null && flight.writes === 0 && flight.lastWrite === ticket.token && ticket.clears === this.#clears) this.#copies.set(sid, copy)
    else this.#copies.delete(sid)
    this.#land(sid, flight)
  }

  /** Drops the copy of `sid`; a read under way will not keep what it gets. */
  drop (sid: string): void {
    this.#copies.delete(sid)
    const flight = this.#flights.get(sid)
    if (flight !== undefined) flight.version++
  }

  /** Drops every copy; no read or write under way keeps what it gets. */
  clear (): void {
    this.#copies.clear()
    this.#clears++
  }

  #flight (sid: string): Flight {
    let flight = this.#flights.get(sid)
    if (flight === undefined) this.#flights.set(sid, flight = { reads: 0, writes: 0, version: 0, lastWrite: null })
    return flight
  }

  #land (sid: string, flight: Flight): void {
    if (flight.reads === 0 && flight.writes === 0) this.#flights.delete(sid)
  }
}
