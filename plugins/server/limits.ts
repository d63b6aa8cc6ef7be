import type { OptionKit } from '../internal/option-kit.js'

/**
 * How much one client may take of the server: HTTP/2 per-connection limits and the HTTP/1.1
 * timeouts, in milliseconds. Rapid reset (CVE-2023-44487) needs no limit of its own: nghttp2's reset
 * rate limit and Node's invalid-frame count end such a session after about 1000 streams.
 */
export interface ServerLimits {
  /**
   * HTTP/2: streams one client may have open at once on a connection (`SETTINGS_MAX_CONCURRENT_STREAMS`);
   * more are refused with `REFUSED_STREAM`. Node's default is unlimited.
   * @default 100
   */
  maxConcurrentStreams?: number
  /**
   * Largest request header block, in bytes: HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE` (larger header
   * lists get their stream reset) and HTTP/1.1 `maxHeaderSize` (larger headers get 431).
   * @default 16384
   */
  maxHeaderSize?: number
  /**
   * HTTP/2: memory one session may hold, in megabytes (header tables, queued data, unacknowledged
   * frames); new streams are refused beyond it.
   * @default 10
   */
  maxSessionMemory?: number
  /**
   * HTTP/2: entries in one `SETTINGS` frame; more end the session.
   * @default 32
   */
  maxSettings?: number
  /**
   * HTTP/2: invalid frames a session may send before it is ended; with nghttp2's reset rate limit,
   * what ends a rapid-reset attack (CVE-2023-44487) after about 1000 streams.
   * @default 1000
   */
  maxSessionInvalidFrames?: number
  /**
   * HTTP/2: streams Node refuses to one session (over `maxConcurrentStreams` or `maxSessionMemory`) before it ends the session.
   * @default 100
   */
  maxSessionRejectedStreams?: number
  /**
   * HTTP/2: pings the server may have sent and not yet had answered (`session.ping()`, as the cluster drain
   * sends); a ping over it fails. Not a limit on the client's pings.
   * @default 10
   */
  maxOutstandingPings?: number
  /**
   * HTTP/2 with `allowHTTP1: false`: how long a connection without `h2` may stay before it is destroyed.
   * @default 10000
   */
  unknownProtocolTimeout?: number
  /**
   * HTTP/2: an idle session is closed after this long (Fastify's `http2SessionTimeout`).
   * @default 72000
   */
  http2SessionTimeout?: number
  /**
   * HTTP/1.1: the request headers must arrive within this long (Node's `headersTimeout`).
   * @default 20000
   */
  headersTimeout?: number
  /**
   * HTTP/1.1: the whole request, body included, must arrive within this long (Node's and Fastify's `requestTimeout`).
   * @default 120000
   */
  requestTimeout?: number
  /**
   * HTTP/1.1: an idle keep-alive connection is closed after this long (Node's and Fastify's `keepAliveTimeout`).
   * @default 72000
   */
  keepAliveTimeout?: number
}

/** Why each default, in short: the docs' Limits table says it in full. */
export const LIMIT_DEFAULTS = {
  // RFC 9113 §6.5.2 asks for at least 100; browsers rarely open more than that at once
  maxConcurrentStreams: 100,
  // Node's HTTP/1.1 default; HTTP/2's own default (65535) would let one request carry four times as much
  maxHeaderSize: 16384,
  // the remaining ones are Node's own defaults, already safe
  maxSessionMemory: 10,
  maxSettings: 32,
  maxSessionInvalidFrames: 1000,
  maxSessionRejectedStreams: 100,
  maxOutstandingPings: 10,
  unknownProtocolTimeout: 10000,
  // Fastify's: longer than the 60 s idle timeout of common load balancers, so the server never closes first
  http2SessionTimeout: 72000,
  keepAliveTimeout: 72000,
  // Node's is 60 s; headers fit in one round trip, 20 s covers a poor mobile link
  headersTimeout: 20000,
  // Node's is 300 s, Fastify's HTTP/1.1 default none: 1 MiB (Fastify's bodyLimit) at 10 kB/s takes ~100 s
  requestTimeout: 120000
} as const satisfies Required<ServerLimits>

export type NormalizedLimits = { -readonly [K in keyof ServerLimits]-?: number }

// the largest delay setTimeout() takes; HTTP/2 settings are 32-bit
const MAX_DELAY = 2 ** 31 - 1
const MAX_SETTING = 2 ** 32 - 1
const BOUNDS: Record<keyof ServerLimits, number> = {
  maxConcurrentStreams: MAX_SETTING,
  maxHeaderSize: MAX_SETTING,
  maxSessionMemory: MAX_SETTING,
  maxSettings: MAX_SETTING,
  maxSessionInvalidFrames: MAX_SETTING,
  maxSessionRejectedStreams: MAX_SETTING,
  maxOutstandingPings: MAX_SETTING,
  unknownProtocolTimeout: MAX_DELAY,
  http2SessionTimeout: MAX_DELAY,
  headersTimeout: MAX_DELAY,
  requestTimeout: MAX_DELAY,
  keepAliveTimeout: MAX_DELAY
}

/** Validates `limits`: each a whole number ≥ 1, missing ones take their default. */
export function normalizeLimits (check: OptionKit, input: unknown): NormalizedLimits {
  const opts = check.object('limits', input === undefined ? {} : input)
  const names = Object.keys(LIMIT_DEFAULTS) as Array<keyof ServerLimits>
  check.known(opts, names, 'limits.')
  const limits = {} as NormalizedLimits
  for (const name of names) {
    limits[name] = check.number(`limits.${name}`, opts[name], LIMIT_DEFAULTS[name], { min: 1, max: BOUNDS[name], integer: true })
  }
  // Node checks headers against the headers timeout and the whole request against the request timeout
  if (limits.headersTimeout > limits.requestTimeout) {
    check.invalid('limits.headersTimeout', 'must not be longer than limits.requestTimeout')
  }
  return limits
}
