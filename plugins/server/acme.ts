import { generateKeyPair, randomBytes, X509Certificate } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:https'
import { basename, dirname, join } from 'node:path'
import { rootCertificates } from 'node:tls'
import { promisify } from 'node:util'
import { normalizeAcmeOptions, type AcmeLogger, type AcmeOptions, type NormalizedAcmeOptions } from './acme-options.js'
import { FST_FLEET_SERVER_ACME_CLIENT_MISSING, FST_FLEET_SERVER_ACME_FAILED } from './errors.js'
import { loadTlsMaterial, readPem } from './tls-material.js'

export { LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING, type AcmeLogger, type AcmeOptions, type AcmeRetry } from './acme-options.js'

/** What `start()` and `renew()` resolve to. */
export interface AcmeResult {
  /** When the certificate now in `certFile` expires. */
  expiresAt: Date
  /** Whether a new certificate was obtained from the ACME server (`false`: the one on disk is kept). */
  obtained: boolean
}

interface Http01Challenge { type: string, token: string }
type ChallengeFn = (authz: { identifier: { value: string } }, challenge: Http01Challenge, keyAuthorization: string) => Promise<unknown>
interface AxiosRequest { url?: string, httpsAgent?: unknown, timeout?: number }

/**
 * The part of acme-client's API used here; its own types are not imported, so that the package's
 * declarations do not need the optional peer installed (a test checks that acme-client fits).
 */
export interface AcmeClientModule {
  Client: new (opts: { directoryUrl: string, accountKey: string, backoffMin: number, backoffMax: number, backoffAttempts: number }) => {
    auto: (opts: {
      csr: Buffer
      email: string
      termsOfServiceAgreed: boolean
      challengePriority: string[]
      skipChallengeVerification: boolean
      challengeCreateFn: ChallengeFn
      challengeRemoveFn: ChallengeFn
    }) => Promise<string>
  }
  crypto: { createCsr: (data: { commonName: string, altNames: string[] }, keyPem: string) => Promise<[Buffer, Buffer]> }
  axios: { interceptors: { request: { use: (fn: <C extends AxiosRequest>(config: C) => C) => unknown } } }
}

/** Loads `acme-client` (an optional peer dependency); a coded error says how to install it. */
export async function importAcmeClient (specifier = 'acme-client'): Promise<AcmeClientModule> {
  try {
    const mod = await import(specifier) as { default: AcmeClientModule }
    return mod.default
  } catch (err) {
    throw new FST_FLEET_SERVER_ACME_CLIENT_MISSING((err as Error).message, { cause: err })
  }
}

// setTimeout() holds at most 2^31-1 ms (24.8 days); a later renewal waits in steps
const MAX_TIMER = 2 ** 31 - 1
// every ACME request of ours gives up after this (acme-client sets none)
const REQUEST_TIMEOUT = 30_000
// the first GET of the directory, to fail fast when the server is down
const PROBE_TIMEOUT = 10_000
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/
const generateKeyPairAsync = promisify(generateKeyPair)
const silent: AcmeLogger = { info: () => {}, warn: () => {}, error: () => {} }

/**
 * acme-client sends every request through its one axios instance (`acmeClient.axios`). One request
 * interceptor per instance gives the requests to an ACME server we use our agent for that server
 * (trusting `directoryCa`) and a timeout, and leaves any other request alone.
 */
const agents = new Map<string, Agent>()
const intercepted = new WeakSet<object>()
function routeThrough (acme: AcmeClientModule, origin: string, agent: Agent): void {
  agents.set(origin, agent)
  if (intercepted.has(acme.axios)) return
  intercepted.add(acme.axios)
  acme.axios.interceptors.request.use((config) => {
    for (const [prefix, httpsAgent] of agents) {
      if (String(config.url).startsWith(prefix + '/')) {
        config.httpsAgent = httpsAgent
        config.timeout = REQUEST_TIMEOUT
      }
    }
    return config
  })
}

/** One GET of the directory, without acme-client's retries: an unreachable or refusing server fails fast. */
async function probeDirectory (url: string, agent: Agent, timeout: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume()
      if (res.statusCode === 200) resolve()
      else reject(new Error(`the directory answered HTTP ${res.statusCode}`))
    })
    // one deadline for connecting and answering (the `timeout` option only bounds idle time)
    const timer = setTimeout(() => req.destroy(new Error(`the directory did not answer within ${timeout} ms`)), timeout)
    req.on('close', () => clearTimeout(timer))
    req.on('error', reject)
    req.end()
  })
}

/** Writes `files` atomically (a temp file in the same folder, then a rename), every temp file first. */
async function writeFiles (files: Array<{ path: string, data: string, mode: number }>): Promise<void> {
  const temps = files.map(({ path }) => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`))
  try {
    for (const [i, { data, mode }] of files.entries()) await writeFile(temps[i] as string, data, { mode })
    for (const [i, { path }] of files.entries()) await rename(temps[i] as string, path)
  } finally {
    await Promise.all(temps.map((tmp) => rm(tmp, { force: true })))
  }
}

/**
 * Certificates from an ACME server (Let's Encrypt), validated with HTTP-01 and kept on disk:
 * the private key in `keyFile` (mode 0600) and the full chain in `certFile`, each replaced
 * atomically, so that `serverOptions({ key: acme.keyFile, cert: acme.certFile, watch: true })`
 * serves them and picks up renewals. The challenge answers are files in `challengeDir`, served by
 * `httpsRedirectServer({ acmeChallenge: acme.challengeDir })` on port 80.
 *
 * `start()` keeps the certificate on disk when it covers every domain and is not within
 * `renewBefore` of expiry, else orders one; then it schedules the renewal. A failed order is
 * logged with `FST_FLEET_SERVER_ACME_FAILED` and retried with backoff while the current
 * certificate keeps serving.
 */
export class AcmeCertificates {
  /** The certificate's private key (PEM, mode 0600). */
  readonly keyFile: string
  /** The certificate followed by its intermediates (PEM). */
  readonly certFile: string
  /** Folder of the pending HTTP-01 answers, one file per token. */
  readonly challengeDir: string
  /** The ACME account's private key (PEM, mode 0600), reused by every order. */
  readonly accountKeyFile: string

  readonly #opts: NormalizedAcmeOptions
  readonly #log: AcmeLogger
  #timer: NodeJS.Timeout | undefined
  #nextAttempt: Date | null = null
  #expiresAt: Date | null = null
  #failures = 0
  #closed = false
  #pending: Promise<AcmeResult> | null = null
  #acme: AcmeClientModule | undefined

  constructor (options: AcmeOptions) {
    this.#opts = normalizeAcmeOptions(options)
    this.#log = this.#opts.logger ?? silent
    const { dir } = this.#opts
    this.keyFile = join(dir, 'key.pem')
    this.certFile = join(dir, 'cert.pem')
    this.challengeDir = join(dir, 'challenges')
    this.accountKeyFile = join(dir, 'account-key.pem')
  }

  /** When the certificate in `certFile` expires (`null` before `start()` found or obtained one). */
  get expiresAt (): Date | null {
    return this.#expiresAt
  }

  /** When the next renewal or retry is due (`null` when none is scheduled). */
  get nextAttempt (): Date | null {
    return this.#nextAttempt
  }

  /**
   * Uses the certificate in `dir` when it is valid, covers every domain and is not within
   * `renewBefore` of expiry; otherwise orders one. Then schedules the renewal (an unref'd timer).
   * Rejects with `FST_FLEET_SERVER_ACME_FAILED` only when there is no usable certificate at all;
   * with a valid one still on disk, a failed order is logged and retried with backoff.
   * `httpsRedirectServer({ acmeChallenge: acme.challengeDir })` must be listening on port 80 before.
   */
  async start (): Promise<AcmeResult> {
    this.#acme ??= await importAcmeClient()
    this.#closed = false
    const current = await this.#current()
    if (current !== null) {
      this.#expiresAt = current
      const due = current.getTime() - this.#opts.renewBefore * 1000
      if (due > Date.now()) {
        this.#log.info({ domains: this.#opts.domains, expiresAt: current.toISOString(), renewAt: new Date(due).toISOString() }, 'acme: the certificate on disk is valid; renewal scheduled')
        this.#schedule(due)
        return { expiresAt: current, obtained: false }
      }
      this.#log.info({ domains: this.#opts.domains, expiresAt: current.toISOString() }, 'acme: the certificate on disk is due for renewal')
      return await this.renew().catch(() => ({ expiresAt: current, obtained: false }))
    }
    return await this.#order(false)
  }

  /**
   * Orders a new certificate now, whatever the one on disk. Rejects with
   * `FST_FLEET_SERVER_ACME_FAILED` when the order fails; the files stay as they were and a retry
   * is scheduled with backoff.
   */
  async renew (): Promise<AcmeResult> {
    this.#acme ??= await importAcmeClient()
    return await this.#order(true)
  }

  /** Stops the renewal timer (an order under way finishes, but schedules nothing). */
  close (): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#nextAttempt = null
  }

  /** The expiry of the certificate on disk when it is usable and covers every domain, else `null`. */
  async #current (): Promise<Date | null> {
    try {
      const material = await loadTlsMaterial({ key: this.keyFile, cert: this.certFile, ca: [], passphrase: undefined })
      const leaf = new X509Certificate(material.cert)
      const missing = this.#opts.domains.filter((d) => leaf.checkHost(d, { subject: 'never', wildcards: false }) === undefined)
      if (missing.length > 0) {
        this.#log.warn({ missing }, 'acme: the certificate on disk does not cover every domain; ordering a new one')
        return null
      }
      return material.expiresAt
    } catch (err) {
      if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') {
        this.#log.warn({ err }, 'acme: the certificate on disk is unusable; ordering a new one')
      }
      return null
    }
  }

  /** One order at a time: a renewal asked for during one joins it. */
  async #order (retry: boolean): Promise<AcmeResult> {
    this.#pending ??= this.#attempt(retry).finally(() => { this.#pending = null })
    return await this.#pending
  }

  async #attempt (retry: boolean): Promise<AcmeResult> {
    const { domains, directoryUrl } = this.#opts
    try {
      const expiresAt = await this.#obtain()
      this.#failures = 0
      this.#expiresAt = expiresAt
      let renewAt = expiresAt.getTime() - this.#opts.renewBefore * 1000
      if (renewAt <= Date.now()) {
        renewAt = Date.now() + (expiresAt.getTime() - Date.now()) / 2
        this.#log.warn({ renewBefore: this.#opts.renewBefore, expiresAt: expiresAt.toISOString() }, 'acme: renewBefore is longer than the new certificate\'s lifetime; renewing halfway instead')
      }
      this.#log.info({ domains, expiresAt: expiresAt.toISOString(), renewAt: new Date(renewAt).toISOString() }, 'acme: certificate obtained and written')
      this.#schedule(renewAt)
      return { expiresAt, obtained: true }
    } catch (cause) {
      const err = new FST_FLEET_SERVER_ACME_FAILED(domains.join(', '), directoryUrl, (cause as Error).message, { cause })
      if (retry) {
        const delay = Math.min(this.#opts.retry.min * 2 ** this.#failures, this.#opts.retry.max)
        this.#failures++
        this.#schedule(Date.now() + delay)
        this.#log.error({ err, retryIn: delay, failures: this.#failures }, 'acme: the order failed; the current certificate keeps serving')
      } else {
        this.#log.error({ err }, 'acme: the order failed and there is no certificate to serve')
      }
      throw err
    }
  }

  #schedule (at: number): void {
    clearTimeout(this.#timer)
    if (this.#closed) return
    const wait = Math.max(0, at - Date.now())
    this.#nextAttempt = new Date(at)
    this.#timer = setTimeout(() => {
      if (wait > MAX_TIMER) this.#schedule(at)
      else this.renew().catch(() => {}) // logged by #attempt
    }, Math.min(wait, MAX_TIMER))
    this.#timer.unref()
  }

  /** Orders a certificate for every domain with HTTP-01 and writes key and chain; resolves its expiry. */
  async #obtain (): Promise<Date> {
    const { directoryUrl, directoryCa, domains, email } = this.#opts
    const acme = this.#acme as AcmeClientModule
    await mkdir(this.challengeDir, { recursive: true, mode: 0o700 })
    await chmod(this.#opts.dir, 0o700)
    const ca = directoryCa === undefined ? undefined : [...rootCertificates, (await readPem('directoryCa', directoryCa)).pem]
    // no keep-alive: the few requests of an order every few weeks leave no socket open between orders
    const agent = new Agent({ ca })
    routeThrough(acme, new URL(directoryUrl).origin, agent)
    const accountKey = await this.#accountKey()
    await probeDirectory(directoryUrl, agent, PROBE_TIMEOUT)

    const { privateKey } = await generateKeyPairAsync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' }
    })
    const [, csr] = await acme.crypto.createCsr({ commonName: domains[0] as string, altNames: domains }, privateKey)
    const client = new acme.Client({ directoryUrl, accountKey, backoffMin: 1000, backoffMax: 10_000, backoffAttempts: 12 })
    this.#log.info({ domains, directoryUrl }, 'acme: ordering a certificate')
    const chain = await client.auto({
      csr,
      email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // the ACME server checks it from outside; a self-check from here often cannot reach port 80
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        /* c8 ignore next -- ACME servers (pebble, Let's Encrypt) offer http-01 with base64url tokens */
        if (challenge.type !== 'http-01' || !TOKEN.test(challenge.token)) throw new Error(`no usable http-01 challenge for ${authz.identifier.value}`)
        await writeFiles([{ path: join(this.challengeDir, challenge.token), data: keyAuthorization, mode: 0o644 }])
      },
      challengeRemoveFn: async (_authz, challenge) => {
        await rm(join(this.challengeDir, challenge.token), { force: true })
      }
    })

    // the same checks serverOptions() makes, before the files are replaced
    const material = await loadTlsMaterial({ key: privateKey, cert: chain, ca: [], passphrase: undefined })
    await writeFiles([
      { path: this.keyFile, data: privateKey, mode: 0o600 },
      { path: this.certFile, data: chain, mode: 0o644 }
    ])
    return material.expiresAt
  }

  /** The account key from `dir`, made (and kept) on first use so that every order uses one account. */
  async #accountKey (): Promise<string> {
    try {
      return await readFile(this.accountKeyFile, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    const { privateKey } = await generateKeyPairAsync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' }
    })
    await writeFiles([{ path: this.accountKeyFile, data: privateKey, mode: 0o600 }])
    return privateKey
  }
}
