import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { SessionBackend, StoredSession } from '../backend.js'
import { check, JSON_SERIALIZER, normalizeStoreOptions, splitOptions, type StoreOptions } from '../options.js'
import { timeOf, type SessionRecord } from '../record.js'
import { BackendStore } from '../store.js'
import { FINGERPRINT_TEXT_MAX } from '../write-elision.js'
import { FST_FLEET_SESSION_UNSUPPORTED } from './memcached-errors.js'
import { clientSource, type ClientSource, type MemjsClientLike, type MemjsClientOptions } from './memcached-client.js'

export { jsonFlagSerializer, type MemjsClientLike, type MemjsClientOptions } from './memcached-client.js'

/** Options of `MemcachedStore`: `client` or `servers`, not both. */
export interface MemcachedStoreOptions extends StoreOptions {
  /**
   * A memjs client (`memjs.Client.create(...)`): yours, the store never closes it. It writes with
   * memjs's flags (0), which connect-memcached reads as a string it cannot use: make it with
   * `serializer: jsonFlagSerializer` for express-session to read the sessions.
   * @default undefined (`servers` instead)
   */
  client?: MemjsClientLike
  /**
   * Servers in memjs's format (`'host:port,host:port'`, `user:pass@host:port` too): the store makes
   * a memjs client on first use (the `memjs` package must be installed), with `jsonFlagSerializer`
   * when the store's `serializer` is the default JSON one, and quits it on `close()`.
   * @default undefined (`client` instead)
   */
  servers?: string
  /** SASL user of `servers` (memjs's `username`). @default undefined (memjs reads `MEMCACHIER_USERNAME`, `MEMCACHE_USERNAME`) */
  username?: string
  /** SASL password of `servers`. @default undefined (memjs reads `MEMCACHIER_PASSWORD`, `MEMCACHE_PASSWORD`) */
  password?: string
  /** memjs settings of the client made for `servers`. @default {} (see `MemjsClientOptions`) */
  clientOptions?: MemjsClientOptions
  /**
   * Prepended to the session id to make the key of the session, as connect-memcached does.
   * @default '' (connect-memcached's default)
   */
  prefix?: string
  /**
   * Prepended to the session id to make the key of its expiry (`<expiresAt ms>:<fingerprint>`),
   * which Memcached cannot report; it must differ from `prefix`.
   * @default 'fleet-expiry:' followed by `prefix`
   */
  expiryPrefix?: string
  /**
   * `clear()` empties the whole server (`flush_all`): only for a server that holds this store's
   * sessions and nothing else. Without it, `clear()` fails with `FST_FLEET_SESSION_UNSUPPORTED`.
   * @default false
   */
  flushOnClear?: boolean
}

export const MEMCACHED_DEFAULTS = {
  prefix: '',
  flushOnClear: false
} as const satisfies Required<Omit<MemcachedStoreOptions, 'client' | 'servers' | 'username' | 'password' | 'clientOptions' | 'expiryPrefix' | keyof StoreOptions>>

/** What the default `expiryPrefix` starts with, before `prefix`. */
export const EXPIRY_PREFIX = 'fleet-expiry:'

const MEMCACHED_KEYS = ['client', 'servers', 'username', 'password', 'clientOptions', 'prefix', 'expiryPrefix', 'flushOnClear'] as const

/** The longest lifetime Memcached takes as seconds from now (30 days): it reads a larger one as a Unix time. */
export const MAX_RELATIVE_LIFETIME = 2_592_000

/**
 * The Memcached expiry of an entry due at `expiresAt` (ms): whole seconds from `now`, rounded up
 * and at least 1 (0 means "never"), or beyond 30 days the Unix time in seconds, since such a
 * lifetime would be read as a time in 1970 and the entry would expire at once.
 */
export function memcachedExpiry (expiresAt: number, now: number): number {
  const seconds = Math.max(1, Math.ceil((expiresAt - now) / 1000))
  return seconds > MAX_RELATIVE_LIFETIME ? Math.ceil(expiresAt / 1000) : seconds
}

/** 64 bits of the SHA-1 of a session text: which text an expiry key belongs to. */
export const fingerprintOf = (text: string): string => hash('sha1', text).slice(0, 16)

/**
 * A text the backend remembers: itself while short (the string write elision keeps too, so it costs
 * a pointer), else its fingerprint, taken once, so that a long session is not held twice.
 */
type KnownText = string | { fingerprint: string }

const knownText = (text: string): KnownText => text.length > FINGERPRINT_TEXT_MAX ? { fingerprint: fingerprintOf(text) } : text
const fingerprintOfKnown = (known: KnownText): string => typeof known === 'string' ? fingerprintOf(known) : known.fingerprint

/** The expiry an expiry key holds, when it belongs to `text`; else `null`. */
function expiryOf (value: Buffer | null, text: string): number | null {
  if (value === null) return null
  const [at, of] = value.toString().split(':')
  const expiresAt = Number(at)
  return of === fingerprintOf(text) && Number.isFinite(expiresAt) ? expiresAt : null
}

/** When the cookie of session `text` expires, if it is JSON and says so; else `null`. */
function textExpiry (text: string): number | null {
  try {
    return timeOf(JSON.parse(text)?.cookie?.expires)
  } catch {
    return null
  }
}

interface MemcachedBackendSettings {
  source: ClientSource
  prefix: string
  expiryPrefix: string
  flushOnClear: boolean
  /** Whether texts are the store's default JSON, which says the cookie's `expires` as the record does. */
  json: boolean
  now: () => number
  memo: number
}

/**
 * Two keys per session: `<prefix><sid>` holds its text, `<expiryPrefix><sid>` its expiry and the
 * fingerprint of the text it belongs to, both with the same Memcached lifetime; the expiry key is
 * written by each refresh, and by a write whose text does not say its expiry. Memcached cannot
 * say when an entry expires, and a refresh (`touch`) does not change the stored cookie's
 * `expires`: the expiry key tells a reader in another process (or on a fake clock) that a
 * refreshed session lives on. A text without an expiry key, or whose fingerprint does not match
 * (connect-memcached rewrote it, knowing nothing of the expiry key), expires with its stored
 * cookie: the lifetime this store or connect-memcached gave it.
 *
 * A refresh needs the fingerprint of the text it keeps: the backend remembers the text it last read
 * or wrote of each session (`KnownText`; write elision only refreshes a session this process read or
 * wrote), so a refresh is `touch` + `set` of the expiry key in one round trip; a session it does not
 * know (`touch()` of a session read elsewhere) is read first. The fingerprint of a short text is
 * taken only where an expiry key is read or written, not on every read and write.
 */
class MemcachedBackend implements SessionBackend {
  readonly #settings: MemcachedBackendSettings
  /** The text this process last read or wrote of each session. */
  readonly #texts: LRUCache<string, KnownText>
  #client: MemjsClientLike | null
  #making: Promise<MemjsClientLike> | null = null

  constructor (settings: MemcachedBackendSettings) {
    this.#settings = settings
    this.#texts = new LRUCache({ max: settings.memo })
    this.#client = 'client' in settings.source ? settings.source.client : null
  }

  read (sid: string): Promise<StoredSession | null> {
    return this.#run((client) => Promise.all([client.get(this.#key(sid)), client.get(this.#expiryKey(sid))])).then(([session, expiry]) => {
      if (session.value === null) return null
      const text = session.value.toString()
      this.#texts.set(sid, knownText(text))
      return { text, expiresAt: expiryOf(expiry.value, text) ?? textExpiry(text) }
    })
  }

  /** One `get`, for a session whose expiry the store knows. */
  readText (sid: string): Promise<string | null> {
    return this.#run((client) => client.get(this.#key(sid))).then(({ value }) => {
      if (value === null) return null
      const text = value.toString()
      this.#texts.set(sid, knownText(text))
      return text
    })
  }

  /**
   * One `set` when the text's own cookie says when it expires; else (a cookie without `expires`,
   * whose session lives `ttl`, or a text of another serializer) the expiry key too. An expiry key
   * an earlier refresh left names an earlier text: a reader ignores it.
   */
  async write (sid: string, text: string, expiresAt: number, record: Readonly<SessionRecord>): Promise<void> {
    const expires = memcachedExpiry(expiresAt, this.#settings.now())
    this.#texts.set(sid, knownText(text))
    const stated = this.#settings.json ? timeOf(record.cookie?.expires) === expiresAt : textExpiry(text) === expiresAt
    await this.#run((client) => stated
      ? client.set(this.#key(sid), text, { expires })
      : Promise.all([client.set(this.#key(sid), text, { expires }), client.set(this.#expiryKey(sid), `${expiresAt}:${fingerprintOf(text)}`, { expires })]))
  }

  refresh (sid: string, expiresAt: number): Promise<boolean> {
    const expires = memcachedExpiry(expiresAt, this.#settings.now())
    const key = this.#key(sid)
    const expiryKey = this.#expiryKey(sid)
    const known = this.#texts.get(sid)
    return this.#run(async (client) => {
      if (known !== undefined) {
        // (an expiry key left without its session, gone meanwhile, is never read: harmless)
        const [touched] = await Promise.all([client.touch(key, expires), client.set(expiryKey, `${expiresAt}:${fingerprintOfKnown(known)}`, { expires })])
        return touched === true
      }
      const [touched, { value }] = await Promise.all([client.touch(key, expires), client.get(key)])
      if (touched !== true || value === null) return false
      const text = value.toString()
      this.#texts.set(sid, knownText(text))
      await client.set(expiryKey, `${expiresAt}:${fingerprintOf(text)}`, { expires })
      return true
    })
  }

  async remove (sid: string): Promise<void> {
    this.#texts.delete(sid)
    await this.#run((client) => Promise.all([client.delete(this.#key(sid)), client.delete(this.#expiryKey(sid))]))
  }

  ids (): string[] {
    throw new FST_FLEET_SESSION_UNSUPPORTED('listing the sessions (length, ids)', 'MemcachedStore', 'Memcached has no command that lists its keys')
  }

  async clear (): Promise<void> {
    if (!this.#settings.flushOnClear) {
      throw new FST_FLEET_SESSION_UNSUPPORTED('clear', 'MemcachedStore',
        'Memcached can only empty the whole server (flush_all); pass flushOnClear: true if it holds nothing else')
    }
    await this.#run((client) => client.flush())
    this.#texts.clear()
  }

  async close (): Promise<void> {
    this.#texts.clear()
    // (a client of yours, or none made yet: nothing to quit)
    if (this.#making === null) return
    // (it fails only without memjs: nothing to quit then)
    const [made] = await Promise.allSettled([this.#making])
    if (made.status === 'fulfilled') made.value.quit()
  }

  #key (sid: string): string {
    return this.#settings.prefix + sid
  }

  #expiryKey (sid: string): string {
    return this.#settings.expiryPrefix + sid
  }

  /**
   * Runs `use` with the client, made first if it is the store's own and not made yet (without memjs,
   * every call fails with `FST_FLEET_SESSION_DRIVER_MISSING`).
   */
  #run<T> (use: (client: MemjsClientLike) => Promise<T>): Promise<T> {
    if (this.#client !== null) return use(this.#client)
    const { make } = this.#settings.source as { make: () => Promise<MemjsClientLike> }
    this.#making ??= make().then((client) => (this.#client = client))
    return this.#making.then(use)
  }
}

/**
 * Sessions in Memcached, in connect-memcached's layout: `<prefix><sid>` holds the session JSON,
 * expiring with the session's cookie (else after `ttl`; lifetimes over 30 days are sent as Unix
 * times), so sessions written by express-session + connect-memcached are read here and the other
 * way round; next to it, `<expiryPrefix><sid>` holds the expiry Memcached cannot report (see
 * `MemcachedBackend`).
 *
 * Commands: `get` is one `get` while this process knows the session's expiry, else two (session and
 * expiry key, one round trip); `set` one `set` (two for a cookie without `expires`); a touch or an unchanged session past `touchAfter`
 * a `touch` and a `set` of the expiry key (none at all while write elision skips it); `destroy` two
 * `delete`s. Memcached cannot list its keys: `length()` and `ids()` fail with
 * `FST_FLEET_SESSION_UNSUPPORTED`, and so does `clear()` unless `flushOnClear`. A session's two keys
 * may live on two servers of a list: a call fails when either fails.
 */
export class MemcachedStore extends BackendStore {
  constructor (options: MemcachedStoreOptions) {
    const { own, common } = splitOptions(options, MEMCACHED_KEYS)
    const settings = normalizeStoreOptions(common)
    const prefix = check.string('prefix', own.prefix, MEMCACHED_DEFAULTS.prefix, true)
    const expiryPrefix = check.string('expiryPrefix', own.expiryPrefix, EXPIRY_PREFIX + prefix)
    if (expiryPrefix === prefix) check.invalid('expiryPrefix', 'must differ from prefix (the two keys of a session would be one)')
    const backend = new MemcachedBackend({
      source: clientSource(own, settings.timeout, settings.serializer === JSON_SERIALIZER),
      prefix,
      expiryPrefix,
      flushOnClear: check.boolean('flushOnClear', own.flushOnClear, MEMCACHED_DEFAULTS.flushOnClear),
      json: settings.serializer === JSON_SERIALIZER,
      now: settings.now,
      memo: settings.elisionMemo
    })
    super(backend, common)
  }
}
