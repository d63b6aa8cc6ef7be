import type { FastifyBaseLogger } from 'fastify'
import type { SessionStore } from '@fastify/session'
import type { FleetAppConfig } from './config.js'

/**
 * The session store named by SESSION_STORE.
 * Interim: the fastify-fleet stores land with their own issue; until then every name maps to
 * `@fastify/session`'s built-in memory store (per process), and the log says so.
 */
export async function sessionStore (config: FleetAppConfig, log: FastifyBaseLogger): Promise<SessionStore | undefined> {
  if (config.sessionStore !== 'memory') {
    log.warn({ sessionStore: config.sessionStore }, 'this build has no fastify-fleet session stores yet: sessions live in each process\'s memory')
  }
  return undefined
}
