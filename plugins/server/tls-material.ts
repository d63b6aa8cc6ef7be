import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  FST_FLEET_SERVER_TLS_CERT_EXPIRED,
  FST_FLEET_SERVER_TLS_FILE_UNREADABLE,
  FST_FLEET_SERVER_TLS_INVALID,
  FST_FLEET_SERVER_TLS_KEY_MISMATCH
} from './errors.js'
import type { PemSource } from './options.js'

/** PEM text and where it came from, for error messages ("file /etc/tls/key.pem"). */
export interface PemText {
  pem: string
  origin: string
}

/** Key and certificate chain checked and ready for `tls.createSecureContext()`. */
export interface TlsMaterial {
  key: string
  /** The leaf certificate followed by the intermediates that issued it, as PEM. */
  cert: string
  /** Every CA certificate given, as PEM. */
  ca: string[]
  /** When the leaf certificate expires. */
  expiresAt: Date
  /** The leaf certificate's serial number (hex) and SHA-256 fingerprint. */
  serial: string
  fingerprint256: string
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

/** The file path of a PEM source, or `null` for PEM text (a string with `-----BEGIN`) and Buffers. */
export function pemFilePath (source: PemSource): string | null {
  if (Buffer.isBuffer(source) || (typeof source === 'string' && source.includes('-----BEGIN'))) return null
  return source instanceof URL ? fileURLToPath(source) : source
}

/** Reads one PEM source: inline text or a Buffer as is, anything else as a file path. */
export async function readPem (what: string, source: PemSource): Promise<PemText> {
  const path = pemFilePath(source)
  if (path === null) {
    return Buffer.isBuffer(source)
      ? { pem: source.toString('utf8'), origin: `the \`${what}\` Buffer` }
      : { pem: source as string, origin: `the \`${what}\` option` }
  }
  try {
    return { pem: await readFile(path, 'utf8'), origin: `file ${path}` }
  } catch (err) {
    throw new FST_FLEET_SERVER_TLS_FILE_UNREADABLE(what, path, (err as Error).message, { cause: err })
  }
}

/** Parses every certificate of a PEM text; fails when there is none or one is corrupt. */
export function parseCertificates (text: PemText, what: string): X509Certificate[] {
  const blocks = text.pem.match(CERT_BLOCK)
  if (blocks === null) {
    throw new FST_FLEET_SERVER_TLS_INVALID(what, text.origin, 'no PEM "CERTIFICATE" block found')
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block)
    } catch (err) {
      throw new FST_FLEET_SERVER_TLS_INVALID(what, text.origin, (err as Error).message, { cause: err })
    }
  })
}

/** Parses a private key, so that a wrong passphrase or a corrupt file fails at start-up. */
export function parsePrivateKey (text: PemText, passphrase: string | undefined): KeyObject {
  try {
    return createPrivateKey({ key: text.pem, format: 'pem', passphrase })
  } catch (err) {
    throw new FST_FLEET_SERVER_TLS_INVALID('private key', text.origin, (err as Error).message, { cause: err })
  }
}

const isSelfSigned = (cert: X509Certificate): boolean => cert.checkIssued(cert) && cert.verify(cert.publicKey)

/**
 * Orders the chain to present: the leaf, then each issuer found among `pool`, stopping
 * before a self-signed root (clients must already trust it; sending it only costs bytes).
 */
export function buildChain (leaf: X509Certificate, pool: X509Certificate[]): X509Certificate[] {
  const chain = [leaf]
  const seen = new Set([leaf.fingerprint256])
  let current = leaf
  while (!isSelfSigned(current)) {
    const issuer = pool.find((c) => !seen.has(c.fingerprint256) && current.checkIssued(c) && current.verify(c.publicKey))
    if (issuer === undefined || isSelfSigned(issuer)) break
    chain.push(issuer)
    seen.add(issuer.fingerprint256)
    current = issuer
  }
  return chain
}

/** Fails when a certificate is outside its validity period at `now`. */
export function assertValidNow (cert: X509Certificate, origin: string, now: number): void {
  const from = Date.parse(cert.validFrom)
  const to = Date.parse(cert.validTo)
  if (now < from || now > to) {
    const subject = cert.subject.replace(/\n/g, ', ')
    throw new FST_FLEET_SERVER_TLS_CERT_EXPIRED(subject, origin, cert.validFrom, cert.validTo)
  }
}

export interface LoadTlsOptions {
  key: PemSource
  cert: PemSource
  ca: PemSource[]
  passphrase: string | undefined
  now?: number
}

/**
 * Loads and checks key, certificate and CA list: readable, parseable, the key belongs to the
 * certificate, every presented certificate is valid now. Errors name the file at fault.
 */
export async function loadTlsMaterial (opts: LoadTlsOptions): Promise<TlsMaterial> {
  const now = opts.now ?? Date.now()
  const [keyText, certText, ...caTexts] = await Promise.all([
    readPem('key', opts.key),
    readPem('cert', opts.cert),
    ...opts.ca.map((source) => readPem('ca', source))
  ]) as [PemText, PemText, ...PemText[]]

  const key = parsePrivateKey(keyText, opts.passphrase)
  const [leaf, ...extras] = parseCertificates(certText, 'certificate') as [X509Certificate, ...X509Certificate[]]
  const caCerts = caTexts.map((text) => ({ text, certs: parseCertificates(text, 'CA certificate') }))

  if (!leaf.checkPrivateKey(key)) {
    throw new FST_FLEET_SERVER_TLS_KEY_MISMATCH(keyText.origin, certText.origin)
  }

  const origins = new Map<string, string>()
  for (const c of extras) origins.set(c.fingerprint256, certText.origin)
  for (const { text, certs } of caCerts) for (const c of certs) origins.set(c.fingerprint256, text.origin)

  const chain = buildChain(leaf, [...extras, ...caCerts.flatMap(({ certs }) => certs)])
  for (const c of chain) assertValidNow(c, origins.get(c.fingerprint256) ?? certText.origin, now)

  return {
    key: keyText.pem,
    cert: chain.map((c) => c.toString()).join(''),
    ca: caCerts.flatMap(({ certs }) => certs.map((c) => c.toString())),
    expiresAt: new Date(leaf.validTo),
    serial: leaf.serialNumber,
    fingerprint256: leaf.fingerprint256
  }
}
