import { defineError } from '../internal/errors.js'

/** An option of `fleetHsts` or `httpsRedirectServer()` has the wrong type or value. */
export const FST_FLEET_HSTS_INVALID_OPTION = defineError(
  'FST_FLEET_HSTS_INVALID_OPTION',
  'fastify-fleet/hsts: invalid option %s: %s',
  500,
  TypeError
)

/** `preload: true` without what the preload list requires. */
export const FST_FLEET_HSTS_PRELOAD_REQUIREMENTS = defineError(
  'FST_FLEET_HSTS_PRELOAD_REQUIREMENTS',
  'fastify-fleet/hsts: %s: preload requires maxAge ≥ 31536000 and includeSubDomains: true (hstspreload.org), got maxAge %s and includeSubDomains %s'
)

/** A redirect in production without `allowedHosts`: it would have to trust the client's Host. */
export const FST_FLEET_HSTS_ALLOWED_HOSTS_REQUIRED = defineError(
  'FST_FLEET_HSTS_ALLOWED_HOSTS_REQUIRED',
  'fastify-fleet/hsts: %s needs `allowedHosts` in production (the names it may redirect to); only development defaults to the loopback names'
)
