/** The options of `TieredStore`, their defaults and their checks, and the invalidation channel they name. */
import type { InvalidationChannel } from '../invalidation.js'
import { check, type ReadPolicy } from '../options.js'
import { BackendStore } from '../store.js'
import { MemoryStore } from './memory.js'

/** The near cache: copies of recent sessions in this process. */
export interface NearOptions {
  /**
   * Most sessions kept; past it, the least recently used one is dropped.
   * @default 10000
   */
  max?: number
  /**
   * Seconds a copy is served without asking the inner store when no invalidation channel vouches
   * for it (`invalidation: false`, the channel's connection lost or not yet subscribed, a session
   * whose expiry this process does not know): the longest a change made elsewhere can go unseen then.
   * @default 1
   */
  ttl?: number
  /**
   * Seconds a copy is served without asking the inner store while the invalidation channel
   * listens: changes made through a `TieredStore` are seen as soon as their message arrives; a
   * change that nobody publishes (another app writing the same sessions, a script, the server
   * evicting a key) goes unseen for up to this long. At least `ttl`.
   * @default 60 (or `ttl`, when larger)
   */
  maxAge?: number
}

/**
 * What `get` does while the inner store is down (`FST_FLEET_SESSION_BACKEND`, `_TIMEOUT`,
 * `_UNAVAILABLE`): the stores' `'error'` and `'miss'`, or `'stale'`: the near copy, even older than
 * `near.maxAge`, never past the session's expiry; without a copy, or with one whose expiry this
 * process does not know (a browser-session cookie it never wrote), the error.
 */
export type TieredReadPolicy = ReadPolicy | 'stale'

/** Options of `TieredStore`. */
export interface TieredStoreOptions {
  /**
   * The store behind the near cache: a store of fastify-fleet/session (`RedisStore`, `PostgresStore`,
   * `MySqlStore`, `ClusterStore`, `MemcachedStore`, `MemoryStore`). Its clock, `ttl` and serializer
   * are the tiered store's too.
   * @default undefined (required)
   */
  store: BackendStore
  /** @default { max: 10000, ttl: 1, maxAge: 60 } */
  near?: NearOptions
  /**
   * How other processes learn that a session changed: `true`, the inner store's own channel (see
   * `invalidationChannel()` of RedisStore, PostgresStore, ClusterStore; none needed for MemoryStore);
   * `false`, none (copies live `near.ttl`); or a channel of your own (left open by `close()`).
   * A store without a channel (MySqlStore, MemcachedStore) needs `false` or a channel.
   * @default true
   */
  invalidation?: boolean | InvalidationChannel
  /**
   * What `get` does while the inner store is down: `'error'`, `'miss'` or `'stale'` (see
   * `TieredReadPolicy`). With `'stale'`, the inner store's `readPolicy` must be `'error'`.
   * @default 'error'
   */
  readPolicy?: TieredReadPolicy
  /**
   * `close()` also closes the inner store.
   * @default false (the inner store is yours: it stays open)
   */
  closeStore?: boolean
}

export const TIERED_DEFAULTS = {
  near: { max: 10_000, ttl: 1, maxAge: 60 },
  invalidation: true,
  readPolicy: 'error',
  closeStore: false
} as const satisfies Required<Omit<TieredStoreOptions, 'store'>> & { near: Required<NearOptions> }

/** The options of `TieredStore`, checked; durations in milliseconds. */
export interface NormalizedTieredOptions {
  store: BackendStore
  max: number
  ttlMs: number
  maxAgeMs: number
  /** The invalidation channel: the inner store's (`invalidation: true`), yours, or `null` (none). */
  channel: InvalidationChannel | null
  /** Whether the tiered store opened the channel (and closes it). */
  ownsChannel: boolean
  readPolicy: TieredReadPolicy
  closeStore: boolean
}

const KEYS = ['store', 'near', 'invalidation', 'readPolicy', 'closeStore']
const NEAR_KEYS = Object.keys(TIERED_DEFAULTS.near)

const isChannel = (value: unknown): value is InvalidationChannel => {
  const channel = value as Record<string, unknown> | null
  return typeof channel?.publish === 'function' && typeof channel.subscribe === 'function' && typeof channel.close === 'function'
}

/** Validates the options of `TieredStore`, never touching the caller's object. */
export function normalizeTieredOptions (input: unknown): NormalizedTieredOptions {
  const options = check.object('options', input)
  check.known(options, KEYS)
  if (!(options.store instanceof BackendStore)) {
    check.invalid('store', 'expected a store of fastify-fleet/session (RedisStore, PostgresStore, ClusterStore, MemoryStore...)')
  }
  const near = check.object('near', options.near ?? {})
  check.known(near, NEAR_KEYS, 'near.')
  const ttl = check.number('near.ttl', near.ttl, TIERED_DEFAULTS.near.ttl, { min: 0.001 })
  const invalidation = options.invalidation ?? TIERED_DEFAULTS.invalidation
  if (typeof invalidation !== 'boolean' && !isChannel(invalidation)) {
    check.invalid('invalidation', 'expected a boolean or a channel (an object with publish(), subscribe() and close())')
  }
  const readPolicy = check.oneOf<TieredReadPolicy>('readPolicy', options.readPolicy, TIERED_DEFAULTS.readPolicy, ['error', 'miss', 'stale'])
  const store = options.store as BackendStore
  if (readPolicy === 'stale' && store.options.readPolicy !== 'error') {
    check.invalid('readPolicy', "'stale' needs the inner store's readPolicy to be 'error' (with 'miss' it answers no session instead of failing)")
  }
  return {
    store,
    max: check.number('near.max', near.max, TIERED_DEFAULTS.near.max, { min: 1, integer: true }),
    ttlMs: ttl * 1000,
    maxAgeMs: check.number('near.maxAge', near.maxAge, Math.max(ttl, TIERED_DEFAULTS.near.maxAge), { min: ttl }) * 1000,
    readPolicy,
    closeStore: check.boolean('closeStore', options.closeStore, TIERED_DEFAULTS.closeStore),
    channel: invalidation === true ? ownChannel(store) : invalidation === false ? null : invalidation,
    ownsChannel: invalidation === true
  }
}

/** A store that has a channel of its own (RedisStore, PostgresStore, ClusterStore). */
interface WithChannel {
  invalidationChannel: () => InvalidationChannel | null
}

const hasChannel = (store: BackendStore): store is BackendStore & WithChannel =>
  typeof (store as Partial<WithChannel>).invalidationChannel === 'function'

/** The inner store's own channel; a store without one fails, unless it lives in this process alone. */
function ownChannel (store: BackendStore): InvalidationChannel | null {
  if (store instanceof MemoryStore) return null
  if (!hasChannel(store)) {
    return check.invalid('invalidation', `${store.constructor.name} has no invalidation channel of its own: pass false (copies then live near.ttl) or a channel of yours`)
  }
  return store.invalidationChannel()
}
