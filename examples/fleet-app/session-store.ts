import cluster from 'node:cluster'
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { ClusterStore, MemcachedStore, MemoryStore, MySqlStore, PostgresStore, RedisStore } from 'fastify-fleet/session'
import { ConfigError, type FleetAppConfig } from './config.js'

/** What the store needs of the app: its logger, and a hook to close what it opened. */
export interface StoreHost {
  log: FastifyBaseLogger
  addHook: (name: 'onClose', hook: () => Promise<void>) => unknown
}

/**
 * The session store named by SESSION_STORE: `cluster` (the default: kept by the cluster's primary,
 * shared by every worker of this machine), `memory` (this process), `redis` (REDIS_URL),
 * `postgres` (DATABASE_URL), `mysql` (MYSQL_URL) or `memcached` (MEMCACHED_URL), each shared by every worker and machine; the
 * SQL stores make their table on first use in development only (in production, run the SQL file
 * the package ships in your migrations). Interim, until the other stores land: every other name uses a
 * per-process MemoryStore (with several workers a session then lives in the worker that created
 * it), and the log says so. `inWorker`: whether this process is one worker of several, where a
 * per-process store is logged as not shared.
 */
export async function sessionStore (config: FleetAppConfig, app: StoreHost, inWorker = cluster.isWorker): Promise<MemoryStore | ClusterStore | RedisStore | PostgresStore | MySqlStore | MemcachedStore> {
  if (config.sessionStore === 'cluster') return new ClusterStore({ logger: app.log })
  if (config.sessionStore === 'redis') {
    // fail fast while Redis is down instead of queueing requests without bound
    const client = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true })
    client.on('error', (err) => app.log.warn({ err }, 'Redis connection error'))
    // start connected when Redis is up; when it is down, start anyway (requests fail fast) and reconnect
    await client.connect().catch(() => {})
    return await shared(config, app, new RedisStore({ client, closeClient: true, logger: app.log }))
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
  const notShared = inWorker
    ? `; with ${config.workers} workers a session lives in the worker that created it, and a request another worker serves does not see it (SESSION_STORE=cluster, redis, postgres, mysql or memcached shares sessions, WORKERS=1 runs one process)`
    : ''
  if (config.sessionStore !== 'memory') {
    app.log.warn({ sessionStore: config.sessionStore }, `this build has no such fastify-fleet session store yet: sessions live in each process's memory${notShared}`)
  } else if (inWorker) {
    app.log.warn({ sessionStore: config.sessionStore }, `sessions live in each process's memory${notShared}`)
  }
  return new MemoryStore({ logger: app.log })
}

/**
 * A store on a server: closed with the app, and checked at start (`health()`): in production a
 * server that cannot be reached (or a missing table) is a start-up error; in development, a warning.
 */
async function shared<S extends RedisStore | PostgresStore | MySqlStore | MemcachedStore> (config: FleetAppConfig, app: StoreHost, store: S): Promise<S> {
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
