/**
 * `PostgresStore`'s invalidation channel: `LISTEN`/`NOTIFY`. Messages are sent with `pg_notify()`
 * through the store's pool, and heard on one connection of the channel's own (a client checked out
 * of the pool for good, or one made from the url), which `LISTEN`s. PostgreSQL keeps no message for
 * a connection that was not listening: the channel says it stops listening as soon as its connection
 * fails, and opens a new one (after 0.1 s, doubling up to 5 s) until it listens again.
 */
import { hash } from 'node:crypto'
import { InvalidationMessages, bounded, type InvalidationChannel } from '../invalidation.js'
import { check } from '../options.js'
import type { PgPoolLike } from './postgres.js'

/** A connection that listens: a pg `Client`, or one checked out of a `pg.Pool`. */
export interface ListenConnection {
  query: (text: string) => Promise<unknown>
  on: (event: string, listener: (...args: any[]) => void) => unknown
  /** Gives the connection up (a pool's client is released destroyed, never back into the pool). */
  release: () => void
}

/** What the channel of a table works with. */
export interface PostgresChannelSettings {
  /** The channel's name (at most 63 bytes: see `postgresChannelName`). */
  name: string
  /** Opens the listening connection. */
  connect: () => Promise<ListenConnection>
  /** Runs `SELECT pg_notify($1, $2)` through the store's pool. */
  notify: (name: string, payload: string) => Promise<unknown>
  /** Milliseconds a publish or a ping may take. */
  timeout: number
}

/** The part of a `pg.Pool` client (`pool.connect()`) or of a `pg.Client` the invalidation channel uses. */
interface PgListenClient {
  query: (text: string) => Promise<unknown>
  on: (event: string, listener: (...args: any[]) => void) => unknown
}

/** `client` as the channel's connection; `release` gives it up once, whatever calls it. */
function listenConnection (client: PgListenClient, giveUp: () => void): ListenConnection {
  let released = false
  return {
    query: (text) => client.query(text),
    on: (event, listener) => client.on(event, listener),
    release: () => {
      if (released) return
      released = true
      giveUp()
    }
  }
}

/** How the invalidation channel opens its connection: out of the pool for good, or a `pg.Client` of the url. */
export function listenSource (source: { pool: PgPoolLike } | { url: string }, timeout: number): () => Promise<ListenConnection> {
  if ('url' in source) {
    return async () => {
      const pg = await import('pg')
      const client = new pg.default.Client({ connectionString: source.url, connectionTimeoutMillis: 2 * timeout, keepAlive: true })
      // its 'error' reaches the channel, which listens on it once connected; before, connect() rejects
      client.on('error', () => {})
      await client.connect()
      return listenConnection(client as unknown as PgListenClient, () => { client.end().catch(() => {}) })
    }
  }
  const pool = source.pool as PgPoolLike & { connect?: () => Promise<PgListenClient & { release: (destroy: boolean) => void }>, idleCount?: number }
  // a pg.Client has connect() too, which connects itself: a pool counts its idle clients
  if (typeof pool.connect !== 'function' || typeof pool.idleCount !== 'number') {
    check.invalid('invalidation', 'PostgresStore listens for invalidations on a connection of its pool: give a pg.Pool or url, or pass invalidation: false to TieredStore')
  }
  return async () => {
    const client = await (pool.connect as () => Promise<PgListenClient & { release: (destroy: boolean) => void }>)()
    return listenConnection(client, () => { client.release(true) })
  }
}

const FIRST_RETRY = 100
const LAST_RETRY = 5000

/** The channel of the table `table` (as quoted in statements): its name within PostgreSQL's 63 bytes. */
export function postgresChannelName (table: string): string {
  const name = `fastify-fleet:invalidate:${table.replaceAll('"', '')}`
  return Buffer.byteLength(name) <= 63 ? name : `fastify-fleet:invalidate:${hash('sha256', table, 'hex').slice(0, 32)}`
}

export function postgresInvalidation ({ name, connect, notify, timeout }: PostgresChannelSettings): InvalidationChannel {
  const messages = new InvalidationMessages()
  let connection: ListenConnection | null = null
  let closed = false
  let retry = FIRST_RETRY
  let timer: NodeJS.Timeout | undefined

  const listen = async (onInvalidate: (sid: string | null) => void, onListening: (listening: boolean) => void): Promise<void> => {
    let opened: ListenConnection | null = null
    let lost = false
    const again = (): void => {
      if (lost) return
      lost = true
      connection = null
      opened?.release()
      if (closed) return
      onListening(false)
      timer = setTimeout(() => { listen(onInvalidate, onListening).catch(() => {}) }, retry)
      timer.unref()
      retry = Math.min(retry * 2, LAST_RETRY)
    }
    try {
      opened = await connect()
      // closed while it connected
      if (closed) return again()
      opened.on('error', again)
      opened.on('end', again)
      opened.on('notification', (note: { channel: string, payload?: string }) => {
        if (note.channel === name) messages.receive(String(note.payload), onInvalidate)
      })
      await opened.query(`LISTEN "${name}"`)
    } catch {
      return again()
    }
    connection = opened
    retry = FIRST_RETRY
    onListening(true)
  }

  return {
    publish: async (sid) => {
      await bounded('invalidation publish', notify(name, messages.encode(sid)), timeout)
    },
    subscribe: (onInvalidate, onListening) => {
      listen(onInvalidate, onListening).catch(() => {})
    },
    ping: async () => {
      if (connection === null) throw new Error('not listening')
      await connection.query('SELECT 1')
    },
    close: async () => {
      closed = true
      clearTimeout(timer)
      connection?.release()
      connection = null
    }
  }
}
