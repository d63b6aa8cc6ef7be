// The floor anchor of the read-heavy scenario (scenarios/session-tiered.ts): MemoryStore in front of
// RedisStore with nothing but write-through. A read is MemoryStore's. A save whose content (all but
// the cookie, which `rolling` renews on every request) differs from the last one this process wrote
// goes to RedisStore first, then to MemoryStore; any other save only to MemoryStore. No expiry kept in
// Redis for unchanged sessions, no invalidation, no bound on staleness across processes: less than
// any near cache that writes through to Redis must do per request. Its ratio over RedisStore alone is
// above what such a near cache can reach on the route.
import { MemoryStore, RedisStore } from 'fastify-fleet/session'
import type { SessionStore } from '@fastify/session'
import type { SessionRecord, StoreCallback } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { redisClient } from './session-redis-shared.js'

const redis = new RedisStore({ client: await redisClient() })
const memory = new MemoryStore()

/** The content last written to Redis per session id, without its cookie. */
const written = new Map<string, string>()
const content = (session: SessionRecord): string => JSON.stringify({ ...session, cookie: undefined })

const store = {
  get: (sid: string, callback: StoreCallback<SessionRecord | null>) => { memory.get(sid, callback) },
  set: (sid: string, session: SessionRecord, callback: StoreCallback) => {
    const text = content(session)
    if (written.get(sid) === text) {
      memory.set(sid, session, callback)
      return
    }
    redis.set(sid, session).then(() => {
      written.set(sid, text)
      memory.set(sid, session, callback)
    }, callback)
  },
  destroy: (sid: string, callback: StoreCallback) => {
    written.delete(sid)
    redis.destroy(sid).then(() => { memory.destroy(sid, callback) }, callback)
  }
}

// the session types of @fastify/session and of fastify-fleet/session differ only in what they declare
await serve(await sessionApp(store as unknown as SessionStore, { h2c: true }))
