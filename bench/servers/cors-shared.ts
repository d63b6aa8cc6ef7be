// Shared by the cors-* bench servers (not a server itself): the origins, the options both CORS
// plugins get, the 2 ms "database" lookup and the routes every server declares, so the fleet server,
// the @fastify/cors anchor and the bare route differ only in their CORS setup.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { FastifyInstance } from 'fastify'

/** The origins allowed by every CORS server; the scenarios send `Origin: https://app.example.com`. */
export const ALLOWED_ORIGINS = ['https://app.example.com', 'https://admin.example.com']
const allowed = new Set(ALLOWED_ORIGINS)

// A database client has a bounded pool (pg's default is 10 connections): at most POOL lookups run
// at once, the others queue. Without it a sleep costs no CPU and overlaps without limit, which no
// real database does.
const POOL = 10
let busy = 0
const queue: Array<() => void> = []

/** A per-tenant allowlist lookup: a 2 ms database round trip through a pool of 10 connections. */
export async function lookupOrigin (origin: string | undefined): Promise<boolean> {
  if (busy >= POOL) await new Promise<void>((resolve) => queue.push(resolve))
  else busy++
  try {
    await sleep(2)
  } finally {
    const next = queue.shift()
    if (next !== undefined) next()
    else busy--
  }
  return origin !== undefined && allowed.has(origin)
}

/**
 * Options given to both plugins as they are (both accept these names and shapes). `maxAge` is set so
 * both send `Access-Control-Max-Age` (fleetCors defaults to 7200, @fastify/cors to none).
 */
export const COMMON_OPTIONS = {
  credentials: true,
  methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
  allowedHeaders: ['content-type', 'x-request-id'],
  maxAge: 7200
}

/**
 * What `GET /bench/setup` answers: which CORS setup this server has (checked by the scenarios'
 * `prepare`); `fixed headers` answers the preflight with headers fixed in its route.
 */
export const CORS_SETUPS = ['fleetCors', '@fastify/cors', 'fixed headers', 'none'] as const
export type CorsSetup = typeof CORS_SETUPS[number]

/** A Fastify instance on `serverOptions()` (HTTP/2 over TLS with the HTTP/1.1 fallback). */
type App = FastifyInstance<Http2SecureServer, Http2ServerRequest, Http2ServerResponse>

/**
 * The routes of every cors-* server: `GET` and `PUT /api/items`, and `GET /bench/setup`.
 * `itemsHeaders`: headers `GET /api/items` sends, fixed in the route (none by default).
 */
export function routes (app: App, setup: CorsSetup, itemsHeaders?: Record<string, string>): void {
  if (itemsHeaders === undefined) app.get('/api/items', async () => ({ items: [{ id: 1, name: 'one' }] }))
  else app.get('/api/items', async (request, reply) => { reply.headers(itemsHeaders); return { items: [{ id: 1, name: 'one' }] } })
  app.put('/api/items', async () => ({ ok: true }))
  app.get('/bench/setup', async () => ({ cors: setup }))
}
