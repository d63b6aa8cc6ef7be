import { defineError } from '../internal/errors.js'

/** An option of `fleetCors` (or of a route's `config.cors`) has the wrong type or value. */
export const FST_FLEET_CORS_INVALID_OPTION = defineError(
  'FST_FLEET_CORS_INVALID_OPTION',
  'fastify-fleet/cors: invalid option %s: %s',
  500,
  TypeError
)

/** `credentials: true` with a wildcard (`*` origin, methods, headers, or reflecting any origin). */
export const FST_FLEET_CORS_CREDENTIALS_WILDCARD = defineError(
  'FST_FLEET_CORS_CREDENTIALS_WILDCARD',
  'fastify-fleet/cors: %s: credentials: true cannot be combined with %s (browsers refuse it, or it would let every site read your users\' data)'
)

/** A RegExp origin that is not anchored with `^...$`. */
export const FST_FLEET_CORS_UNANCHORED_REGEXP = defineError(
  'FST_FLEET_CORS_UNANCHORED_REGEXP',
  'fastify-fleet/cors: %s: the origin pattern %s is not anchored with ^ and $, so it also matches origins such as https://evil-example.com.attacker.net'
)

/** A string origin that is not a serialized origin (`scheme://host[:port]`). */
export const FST_FLEET_CORS_INVALID_ORIGIN = defineError(
  'FST_FLEET_CORS_INVALID_ORIGIN',
  'fastify-fleet/cors: %s: %s is not an origin such as https://app.example.com (scheme, host and port only, lower case, no path)'
)

/** `maxAge` above every browser's cap: no browser would honour it. */
export const FST_FLEET_CORS_MAX_AGE = defineError(
  'FST_FLEET_CORS_MAX_AGE',
  'fastify-fleet/cors: %s: maxAge %s is above every browser\'s cap (Firefox 86400 s, Chromium 7200 s, WebKit 600 s)'
)
