import { defineError } from '../internal/errors.js'

/** An option of `serverOptions()` / `devCertificate()` has the wrong type or value. */
export const FST_FLEET_SERVER_INVALID_OPTION = defineError(
  'FST_FLEET_SERVER_INVALID_OPTION',
  'fastify-fleet/server: invalid option %s: %s',
  500,
  TypeError
)

/** A TLS file (key, certificate or CA) could not be read. */
export const FST_FLEET_SERVER_TLS_FILE_UNREADABLE = defineError(
  'FST_FLEET_SERVER_TLS_FILE_UNREADABLE',
  'fastify-fleet/server: cannot read the %s file %s: %s'
)

/** TLS material that is not a usable PEM key or certificate. */
export const FST_FLEET_SERVER_TLS_INVALID = defineError(
  'FST_FLEET_SERVER_TLS_INVALID',
  'fastify-fleet/server: the %s from %s is not valid: %s'
)

/** The private key does not belong to the certificate. */
export const FST_FLEET_SERVER_TLS_KEY_MISMATCH = defineError(
  'FST_FLEET_SERVER_TLS_KEY_MISMATCH',
  'fastify-fleet/server: the private key from %s does not match the certificate from %s'
)

/** A certificate of the chain has expired or is not valid yet. */
export const FST_FLEET_SERVER_TLS_CERT_EXPIRED = defineError(
  'FST_FLEET_SERVER_TLS_CERT_EXPIRED',
  'fastify-fleet/server: the certificate "%s" from %s is not valid now (valid from %s to %s)'
)

/** New key or certificate files that fail the start-up checks: the server keeps presenting the old ones. */
export const FST_FLEET_SERVER_TLS_RELOAD_FAILED = defineError(
  'FST_FLEET_SERVER_TLS_RELOAD_FAILED',
  'fastify-fleet/server: the TLS files were not reloaded, the previous certificate stays: %s'
)

/** `reloadCertificates()` on a server that `serverOptions()` did not make from key and certificate files or PEM. */
export const FST_FLEET_SERVER_RELOAD_UNAVAILABLE = defineError(
  'FST_FLEET_SERVER_RELOAD_UNAVAILABLE',
  'fastify-fleet/server: this server has no certificate to reload; pass the Fastify instance (or its server) made with serverOptions({ key, cert })'
)

/** Production mode without TLS material: we never fall back to a self-signed certificate there. */
export const FST_FLEET_SERVER_TLS_MISSING = defineError(
  'FST_FLEET_SERVER_TLS_MISSING',
  'fastify-fleet/server: no TLS key and certificate in production mode; pass `key` and `cert` (PEM or file paths), or `protocol: \'http\'` behind a TLS-terminating proxy'
)

/** The development certificate could not be generated. */
export const FST_FLEET_SERVER_DEV_CERT_FAILED = defineError(
  'FST_FLEET_SERVER_DEV_CERT_FAILED',
  'fastify-fleet/server: cannot create the development certificate: %s'
)

/** An option of `new AcmeCertificates()` has the wrong type or value. */
export const FST_FLEET_SERVER_ACME_INVALID_OPTION = defineError(
  'FST_FLEET_SERVER_ACME_INVALID_OPTION',
  'fastify-fleet/server: invalid ACME option %s: %s',
  500,
  TypeError
)

/** `acme-client`, the optional peer dependency ACME certificates need, cannot be loaded. */
export const FST_FLEET_SERVER_ACME_CLIENT_MISSING = defineError(
  'FST_FLEET_SERVER_ACME_CLIENT_MISSING',
  'fastify-fleet/server: ACME certificates need the acme-client package (npm install acme-client): %s'
)

/** A certificate could not be obtained from the ACME server (unreachable, refusing, or a failed challenge). */
export const FST_FLEET_SERVER_ACME_FAILED = defineError(
  'FST_FLEET_SERVER_ACME_FAILED',
  'fastify-fleet/server: cannot obtain a certificate for %s from %s: %s'
)
