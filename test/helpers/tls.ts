import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generate } from 'selfsigned'

/** A PEM key and certificate. */
export interface KeyPair {
  key: string
  cert: string
}

/** A three-level PKI: root CA → intermediate CA → leaf for localhost/127.0.0.1/::1. */
export interface TestPki {
  root: KeyPair
  intermediate: KeyPair
  leaf: KeyPair
}

const DAY = 86400_000

const serverExtensions = (hosts: string[]): object[] => [
  { name: 'basicConstraints', cA: false },
  { name: 'keyUsage', digitalSignature: true },
  { name: 'extKeyUsage', serverAuth: true },
  ...hosts.length === 0
    ? []
    : [{
        name: 'subjectAltName',
        altNames: hosts.map((h) => isIP(h) !== 0 ? { type: 7, ip: h } : { type: 2, value: h })
      }]
]

const caExtensions = [
  { name: 'basicConstraints', cA: true, critical: true },
  { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
]

async function make (cn: string, extensions: object[], opts: { ca?: KeyPair, from?: Date, to?: Date } = {}): Promise<KeyPair> {
  const from = opts.from ?? new Date(Date.now() - DAY)
  const to = opts.to ?? new Date(Date.now() + 30 * DAY)
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: from,
    notAfterDate: to,
    extensions,
    ...(opts.ca === undefined ? {} : { ca: opts.ca })
  } as Parameters<typeof generate>[1])
  return { key: pems.private, cert: pems.cert }
}

/** Makes a root, an intermediate signed by it, and a leaf signed by the intermediate. */
export async function makePki (opts: { hosts?: string[], leafFrom?: Date, leafTo?: Date, intermediateTo?: Date } = {}): Promise<TestPki> {
  const root = await make('fleet test root CA', caExtensions, { to: new Date(Date.now() + 365 * DAY) })
  const intermediate = await make('fleet test intermediate CA', caExtensions, { ca: root, to: opts.intermediateTo ?? new Date(Date.now() + 180 * DAY) })
  const leaf = await make('localhost', serverExtensions(opts.hosts ?? ['localhost', '127.0.0.1', '::1']), {
    ca: intermediate,
    ...(opts.leafFrom === undefined ? {} : { from: opts.leafFrom }),
    ...(opts.leafTo === undefined ? {} : { to: opts.leafTo })
  })
  return { root, intermediate, leaf }
}

/** A self-signed server certificate, optionally with a validity period in the past or future. */
export async function selfSignedPair (opts: { from?: Date, to?: Date, hosts?: string[] } = {}): Promise<KeyPair> {
  return make('localhost', serverExtensions(opts.hosts ?? ['localhost', '127.0.0.1', '::1']), opts)
}

/** A new leaf certificate (new key, new serial) for `hosts`, issued by `ca` (a PKI's intermediate). */
export async function issueLeaf (ca: KeyPair, opts: { hosts?: string[], to?: Date } = {}): Promise<KeyPair> {
  return make('localhost', serverExtensions(opts.hosts ?? ['localhost', '127.0.0.1', '::1']), { ca, ...(opts.to === undefined ? {} : { to: opts.to }) })
}

/** TLS files in a temporary folder, removed when the test ends. */
export interface TlsFiles {
  dir: string
  key: string
  cert: string
  /** Puts another pair in place the way a renewal should: each file written beside, then renamed over. */
  replace: (next: KeyPair) => Promise<void>
}

/** A folder with `key.pem` and `cert.pem` holding `pair`. */
export async function tlsFiles (t: { teardown: (fn: () => unknown) => unknown }, pair: KeyPair): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-tls-files-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  const replace = async (next: KeyPair): Promise<void> => {
    await writeFile(`${key}.new`, next.key)
    await writeFile(`${cert}.new`, next.cert)
    await rename(`${key}.new`, key)
    await rename(`${cert}.new`, cert)
  }
  await replace(pair)
  return { dir, key, cert, replace }
}
