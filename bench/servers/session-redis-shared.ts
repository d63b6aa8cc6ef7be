// Shared by the session-*-redis bench servers (not a server itself): the one ioredis client setup
// both stores get (the scenario's throwaway Redis at REDIS_URL, ioredis defaults), and `rolling`
// (SESSION_ROLLING=false for the row that reads without saving), so the fleet server and the
// connect-redis anchor differ only in their store.
import { Redis } from 'ioredis'

/** @fastify/session's `rolling`: `true` unless `SESSION_ROLLING=false`. */
export const rolling = process.env.SESSION_ROLLING !== 'false'

/** A connected ioredis client of `REDIS_URL`, with ioredis's defaults. */
export async function redisClient (): Promise<Redis> {
  const url = process.env.REDIS_URL
  if (url === undefined || url === '') throw new Error('REDIS_URL is not set (the session-redis scenario sets it)')
  const client = new Redis(url, { lazyConnect: true })
  client.on('error', (err: Error) => { process.stderr.write(`Redis: ${err.message}\n`) })
  await client.connect()
  return client
}
