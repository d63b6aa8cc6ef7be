import type { FastifyBaseLogger } from 'fastify'
import { MemoryStore } from 'fastify-fleet/session'
import type { FleetAppConfig } from './config.js'

/**
 * The session store named by SESSION_STORE. `memory` is fastify-fleet's bounded MemoryStore.
 * Interim, until the other stores land: every other name also uses a MemoryStore (one per
 * process, so with several workers a session lives in the worker that created it), and the log
 * says so.
 */
export function sessionStore (config: FleetAppConfig, log: FastifyBaseLogger): MemoryStore {
  if (config.sessionStore !== 'memory') {
    log.warn({ sessionStore: config.sessionStore }, 'this build has no such fastify-fleet session store yet: sessions live in each process\'s memory')
  }
  return new MemoryStore({ logger: log })
}
