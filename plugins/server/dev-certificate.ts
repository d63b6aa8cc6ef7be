import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { homedir, platform } from 'node:os'
import { join } from 'node:path'
import { FST_FLEET_SERVER_DEV_CERT_FAILED } from './errors.js'
import { normalizeDevCertificateOptions, type DevCertificateOptions } from './options.js'

/** A development certificate and its key, as PEM. */
export interface DevCertificate {
  key: string
  cert: string
  /** When the certificate expires. */
  expiresAt: Date
  /** The cache file, or `null` when the cache folder could not be written. */
  path: string | null
  /** Whether the certificate came from the cache rather than being made now. */
  cached: boolean
}

const FILE_NAME = 'dev-certificate.pem'
const KEY_BLOCK = /-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----\r?\n?/

/** The per-user cache folder of fastify-fleet, following each platform's convention. */
export function defaultCacheDir (env: NodeJS.ProcessEnv = process.env, os: string = platform()): string {
  if (os === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'fastify-fleet', 'Cache')
  if (os === 'darwin') return join(homedir(), 'Library', 'Caches', 'fastify-fleet')
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fastify-fleet')
}

/** Subject alternative names of a certificate, as plain names and addresses. */
function altNames (cert: X509Certificate): Set<string> {
  const names = new Set<string>()
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.add(entry.slice('DNS:'.length).toLowerCase())
    // Node prints IPv6 SANs in full form (0:0:0:0:0:0:0:1); compare canonical forms
    else if (entry.startsWith('IP Address:')) names.add(canonicalIp(entry.slice('IP Address:'.length)))
  }
  return names
}

function canonicalIp (ip: string): string {
  if (isIP(ip) !== 6) return ip
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1)
}

/** Returns the cached certificate when it is readable, ours, covers `hosts` and is not about to expire. */
async function readCached (file: string, hosts: string[], renewBefore: number): Promise<DevCertificate | null> {
  let text: string
  try {
    const info = await stat(file)
    // a cache file others can read holds a key that is no longer private: make a new one
    if (platform() !== 'win32' && (info.mode & 0o077) !== 0) return null
    text = await readFile(file, 'utf8')
  } catch {
    return null
  }
  try {
    const keyPem = text.match(KEY_BLOCK)?.[0]
    if (keyPem === undefined) return null
    const certPem = text.replace(KEY_BLOCK, '')
    const cert = new X509Certificate(certPem)
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return null
    const expiresAt = new Date(cert.validTo)
    if (expiresAt.getTime() - Date.now() <= renewBefore * 1000) return null
    if (Date.parse(cert.validFrom) > Date.now()) return null
    const names = altNames(cert)
    if (!hosts.every((h) => names.has(isIP(h) !== 0 ? canonicalIp(h) : h.toLowerCase()))) return null
    return { key: keyPem, cert: certPem, expiresAt, path: file, cached: true }
  } catch {
    return null
  }
}

async function generate (hosts: string[], days: number): Promise<{ key: string, cert: string, expiresAt: Date }> {
  const { generate: selfsign } = await import('selfsigned')
  const notBeforeDate = new Date(Date.now() - 60_000)
  const notAfterDate = new Date(notBeforeDate.getTime() + days * 86400_000)
  const pems = await selfsign([
    { name: 'commonName', value: hosts[0] as string },
    { name: 'organizationName', value: 'fastify-fleet development certificate' }
  ], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: hosts.map((h) => isIP(h) !== 0 ? { type: 7, ip: h } : { type: 2, value: h })
      }
    ]
  })
  const cert = new X509Certificate(pems.cert)
  return { key: pems.private, cert: pems.cert, expiresAt: new Date(cert.validTo) }
}

/** Writes the key and certificate as one file, atomically, so that concurrent workers never read half of it. */
async function writeCache (dir: string, file: string, key: string, cert: string): Promise<boolean> {
  const tmp = join(dir, `.${FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await chmod(dir, 0o700)
    await writeFile(tmp, key + cert, { mode: 0o600 })
    await rename(tmp, file)
    return true
  } catch {
    await rm(tmp, { force: true }).catch(() => {})
    return false
  }
}

/**
 * A self-signed certificate for local development (by default for `localhost`, `127.0.0.1`
 * and `::1`), cached on disk in a private per-user folder and made anew when it is missing,
 * unreadable, readable by others, about to expire or does not cover `hosts`.
 * When the cache cannot be written, the certificate is still returned (`path: null`).
 */
export async function devCertificate (options: DevCertificateOptions = {}): Promise<DevCertificate> {
  const opts = normalizeDevCertificateOptions(options)
  const dir = opts.cacheDir ?? defaultCacheDir()
  const file = join(dir, FILE_NAME)
  const cached = await readCached(file, opts.hosts, opts.renewBefore)
  if (cached !== null) return cached

  let made: { key: string, cert: string, expiresAt: Date }
  try {
    made = await generate(opts.hosts, opts.days)
  } catch (err) {
    throw new FST_FLEET_SERVER_DEV_CERT_FAILED((err as Error).message, { cause: err })
  }
  const written = await writeCache(dir, file, made.key, made.cert)
  return { ...made, path: written ? file : null, cached: false }
}
