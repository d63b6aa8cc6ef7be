import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { ClusterStore, MemcachedStore, MemoryStore, MySqlStore, PostgresStore, RedisStore, TieredStore } from 'fastify-fleet/session'
import { ConfigError, type FleetAppConfig } from './config.js'

/** The stores SESSION_STORE names. */
export type FleetAppStore = MemoryStore | ClusterStore | RedisStore | PostgresStore | MySqlStore | MemcachedStore | TieredStore

/** What the store needs of the app: its logger, and a hook to close what it opened. */
export interface StoreHost {
  log: FastifyBaseLogger
  addHook: (name: 'onClose', hook: () => Promise<void>) => unknown
}

/**
 * The session store named by SESSION_STORE: `cluster` (the default: kept by the cluster's primary,
 * shared by every worker of this machine), `memory` (this process: with several workers a session
 * lives in the worker that created it, and the log says so), `redis` (REDIS_URL, or the master the
 * sentinels of REDIS_SENTINELS name), `postgres` (DATABASE_URL), `mysql` (MYSQL_URL), `memcached`
 * (MEMCACHED_URL), each shared by every worker and machine, or `tiered` (Redis as for `redis`: near
 * copies of recent sessions in each process in front of Redis, kept in step over Redis pub/sub,
 * served while Redis is down). The SQL stores make their table on first use in development only
 * (in production, run the SQL file the package ships in your migrations). `inWorker`: whether this
 * process is one worker of several.
 */
export async function sessionStore (config: FleetAppConfig, app: StoreHost, inWorker: boolean): Promise<FleetAppStore> {
  if (config.sessionStore === 'cluster') return new ClusterStore({ logger: app.log })
  if (config.sessionStore === 'redis') return await shared(config, app, await redisStore(config, app))
  if (config.sessionStore === 'tiered') {
    // while Redis is down, a user whose session this process holds stays logged in ('stale')
    return await shared(config, app, new TieredStore({ store: await redisStore(config, app), readPolicy: 'stale', closeStore: true }))
  }
  if (config.sessionStore === 'postgres' || config.sessionStore === 'mysql') {
    const options = { createTable: !config.production, logger: app.log }
    return await shared(config, app, config.sessionStore === 'postgres'
      ? new PostgresStore({ url: config.databaseUrl, ...options })
      : new MySqlStore({ url: config.mysqlUrl, ...options }))
  }
  if (config.sessionStore === 'memcached') {
    // memcached://host:port,host:port (or host:port,... as memjs takes it)
    return await shared(config, app, new MemcachedStore({ servers: config.memcachedUrl.replace(/^memcache[d]?:\/\//, ''), logger: app.log }))
  }
  if (inWorker) {
    app.log.warn({ sessionStore: config.sessionStore }, `sessions live in each process's memory; with ${config.workers} workers a session lives in the worker that created it, and a request another worker serves does not see it (SESSION_STORE=cluster, redis, postgres, mysql, memcached or tiered shares sessions, WORKERS=1 runs one process)`)
  }
  return new MemoryStore({ logger: app.log })
}

/**
 * A RedisStore on REDIS_URL, or on the master that the sentinels of REDIS_SENTINELS name as
 * REDIS_SENTINEL_NAME; it closes its client with it.
 */
async function redisStore (config: FleetAppConfig, app: StoreHost): Promise<RedisStore> {
  // fail fast while Redis is down instead of queueing requests without bound
  const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true }
  const client = config.redisSentinels === null
    ? new Redis(config.redisUrl, options)
    // each reconnection asks the sentinels for the master. Not `failoverDetector`: its subscription
    // outlives a connection lost with its master, and a switch announced while the client is
    // reconnecting ends the client for good (seen with ioredis 6.0); the sentinel disconnects the
    // clients of a master it demotes anyway
    : new Redis({ sentinels: config.redisSentinels, name: config.redisSentinelName, ...options })
  client.on('error', (err) => app.log.warn({ err }, 'Redis connection error'))
  // start connected when Redis is up; when it is down, start anyway (requests fail fast) and reconnect
  await client.connect().catch(() => {})
  return new RedisStore({ client, closeClient: true, logger: app.log })
}

/**
 * A store on a server: closed with the app, and checked at start (`health()`): in production a
 * server that cannot be reached (or a missing table) is a start-up error; in development, a warning.
 */
async function shared<S extends RedisStore | PostgresStore | MySqlStore | MemcachedStore | TieredStore> (config: FleetAppConfig, app: StoreHost, store: S): Promise<S> {
  app.addHook('onClose', async () => { await store.close() })
  const health = await store.health()
  if (health.ok) return store
  // (health.error is there whenever health.ok is false)
  const reason = `the ${config.sessionStore} session store cannot be reached: ${(health.error as { message: string }).message}`
  if (config.production) {
    await store.close()
    throw new ConfigError('SESSION_STORE', reason)
  }
  app.log.warn({ sessionStore: config.sessionStore, err: health.error }, `${reason}; starting anyway (requests that need a session fail until it answers)`)
  return store
}
