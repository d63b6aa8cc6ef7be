// fastify-fleet/session, read top-down: backend.ts (the interface a store's backend implements),
// store.ts (BackendStore: a backend made a @fastify/session store) with backend-calls.ts (timeouts,
// coded errors), write-elision.ts (what a store
// remembers to skip writes) with json-record.ts (its use of kept parses), record.ts (a session as
// stored), signed-ids.ts, options.ts, errors.ts; then each backend in stores/.
export type { MaybePromise, SessionBackend, StoredSession } from './backend.js'
export { BackendStore } from './store.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'
export * from './errors.js'
export type { SessionStore, StoreCallback } from './contract.js'
export type { BreakerOptions, NormalizedStoreOptions, ReadPolicy, Serializer, StoreLogger, StoreOptions } from './options.js'
export type { StoreHealth, StoreStats } from './store-health.js'
export type { BreakerState } from './circuit-breaker.js'
export type { SessionCookieRecord, SessionInput, SessionRecord } from './record.js'
export {
  RedisStore, type RedisStoreOptions, type RedisClientLike, type IoRedisLike, type NodeRedisLike, type NodeRedisClusterLike,
  type NodeRedisSentinelLike, type RedisWaitReplicas
} from './stores/redis.js'
export { FST_FLEET_SESSION_REDIS_UNBOUNDED_QUEUE } from './stores/redis-errors.js'
export { ClusterStore, type ClusterStoreOptions } from './stores/cluster.js'
export { PostgresStore, type PostgresStoreOptions, type PgPoolLike } from './stores/postgres.js'
export { MySqlStore, type MySqlStoreOptions, type MySqlPromisePoolLike, type MySqlCallbackPoolLike } from './stores/mysql.js'
export type { SqlStoreOptions } from './stores/sql-options.js'
export { FST_FLEET_SESSION_DRIVER_MISSING, FST_FLEET_SESSION_EXPIRES_INDEX_MISSING, FST_FLEET_SESSION_TABLE_MISSING } from './stores/sql-errors.js'
export {
  MemcachedStore, jsonFlagSerializer, type MemcachedStoreOptions, type MemjsClientLike, type MemjsClientOptions
} from './stores/memcached.js'
export { FST_FLEET_SESSION_UNSUPPORTED } from './stores/memcached-errors.js'
export {
  TieredStore, type TieredStoreOptions, type TieredStoreStats, type NearOptions, type NearStats, type TieredReadPolicy
} from './stores/tiered.js'
export type { InvalidationChannel } from './invalidation.js'
export { encryptedSerializer, RECORD_VERSION, type EncryptedSerializerOptions, type EncryptionKey } from './encrypted-serializer.js'
