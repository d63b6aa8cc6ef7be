import cluster from 'node:cluster'
import type { SecureContextOptions } from 'node:tls'
import { clusterBus, missingFleetPrimary, TOPICS } from '../cluster/index.js'
import { watchFiles } from '../internal/file-watch.js'
import { FST_FLEET_SERVER_RELOAD_UNAVAILABLE, FST_FLEET_SERVER_TLS_RELOAD_FAILED } from './errors.js'
import type { PemSource } from './options.js'
import { pemFilePath, type TlsMaterial } from './tls-material.js'

/** What a certificate reload did. */
export interface CertificateReport {
  /** `false` when the files hold what the server already presents (nothing was swapped). */
  changed: boolean
  /** The leaf certificate presented from now on: serial number (hex), SHA-256 fingerprint, expiry. */
  serial: string
  fingerprint256: string
  expiresAt: Date
}

/** The part of Fastify's logger a reload writes to. */
interface ReloadLogger {
  info: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

/** A server whose context can be replaced: `tls.Server` and `http2.Http2SecureServer`. */
interface SecureServer {
  setSecureContext: (options: SecureContextOptions) => void
  once: (event: 'close', listener: () => void) => unknown
}

/** Where the material of `serverOptions()` comes from, shared by every server made from one result. */
export interface CertificateSource {
  load: () => Promise<TlsMaterial>
  /** The files to poll: key, certificate and CA given as paths. */
  files: string[]
  /** Milliseconds between polls, or `null` without `watch`. */
  watchInterval: number | null
}

const attached = new WeakMap<object, ServerCertificates>()
/** This process's reloaders, which the primary's `reloadCertificates()` reaches over the bus. */
const inProcess = new Set<ServerCertificates>()
let answering = false

const report = (m: TlsMaterial, changed: boolean): CertificateReport =>
  ({ changed, serial: m.serial, fingerprint256: m.fingerprint256, expiresAt: m.expiresAt })

/** The key, certificate and CA of one running server, and how to replace them. */
class ServerCertificates {
  #current: TlsMaterial
  #queue: Promise<unknown> = Promise.resolve()

  constructor (
    private readonly server: SecureServer,
    private readonly tlsOptions: SecureContextOptions,
    private readonly source: CertificateSource,
    first: TlsMaterial
  ) {
    this.#current = first
  }

  /** Reads and checks the material again; swaps it in when it differs. One reload at a time. */
  async reload (): Promise<CertificateReport> {
    const next = this.#queue.then(async () => await this.#reloadNow())
    this.#queue = next.catch(() => {})
    return await next
  }

  async #reloadNow (): Promise<CertificateReport> {
    let material: TlsMaterial
    try {
      material = await this.source.load()
    } catch (err) {
      throw new FST_FLEET_SERVER_TLS_RELOAD_FAILED((err as Error).message, { cause: err })
    }
    const current = this.#current
    if (material.key === current.key && material.cert === current.cert && material.ca.join('') === current.ca.join('')) {
      return report(current, false)
    }
    // setSecureContext replaces the whole context: the options of the start, with the new material;
    // connections already open keep the context they were made with
    this.server.setSecureContext({ ...this.tlsOptions, key: material.key, cert: material.cert, ca: material.ca.length > 0 ? material.ca : undefined })
    this.#current = material
    return report(material, true)
  }

  /** Reloads after the files changed: logs what it did, or the coded error, and keeps the old material then. */
  reloadLogged (log: ReloadLogger): void {
    this.reload().then((r) => {
      if (r.changed) log.info({ serial: r.serial, expiresAt: r.expiresAt.toISOString() }, 'TLS certificate reloaded')
    }, (err: Error) => {
      log.error({ err }, 'the TLS certificate files changed but cannot be used: the previous certificate stays')
    })
  }
}

/**
 * Polls the files, or in a worker of `startCluster()` asks the primary to poll them, which tells
 * every worker at once. Returns what stops the watch.
 */
function watch (certs: ServerCertificates, source: CertificateSource, interval: number, log: ReloadLogger): () => void {
  const onChange = (): void => { certs.reloadLogged(log) }
  if (!cluster.isWorker || missingFleetPrimary(process.env, true) !== null) return watchFiles(source.files, interval, onChange)
  const bus = clusterBus()
  const key = source.files.join('\n')
  const off = bus.on(TOPICS.filesChanged, (data: { paths?: unknown }) => {
    if (Array.isArray(data?.paths) && data.paths.join('\n') === key) onChange()
  })
  bus.request(TOPICS.watchFiles, { paths: source.files, interval }).catch(
    /* c8 ignore next 2: only when the primary is gone, and then this worker drains and exits anyway */
    (err: Error) => { log.error({ err }, 'the primary did not take the TLS files to watch: this worker will not reload them') }
  )
  return off
}

/** In a worker of `startCluster()`, answers the primary's `reloadCertificates()`, once per process. */
function answerPrimary (): void {
  if (answering || !cluster.isWorker || missingFleetPrimary(process.env, true) !== null) return
  answering = true
  clusterBus().handle(TOPICS.reloadCertificates, async () =>
    await Promise.all([...inProcess].map(async (certs) => await certs.reload())))
}

/** Called by the server factory of `serverOptions()`: the server can now reload its material. */
export function attachCertificates (
  server: SecureServer, tlsOptions: SecureContextOptions, source: CertificateSource, first: TlsMaterial, log: ReloadLogger
): void {
  const certs = new ServerCertificates(server, tlsOptions, source, first)
  attached.set(server, certs)
  inProcess.add(certs)
  answerPrimary()
  const stop = source.watchInterval === null ? undefined : watch(certs, source, source.watchInterval, log)
  server.once('close', () => {
    inProcess.delete(certs)
    stop?.()
  })
}

/**
 * Reads the key, certificate and CA files of a server made with `serverOptions({ key, cert })`
 * again, checks them as at start-up, and swaps them in (`setSecureContext`): new connections get
 * the new certificate, open ones keep theirs. Takes the Fastify instance or its `server`. Rejects
 * with `FST_FLEET_SERVER_TLS_RELOAD_FAILED` (the old certificate stays) or, for a server without
 * files (a development certificate, another server), `FST_FLEET_SERVER_RELOAD_UNAVAILABLE`.
 */
export async function reloadCertificates (appOrServer: object): Promise<CertificateReport> {
  // WeakMap.get answers undefined for what is not an object
  const certs = attached.get((appOrServer as { server?: object }).server ?? appOrServer)
  if (certs === undefined) throw new FST_FLEET_SERVER_RELOAD_UNAVAILABLE()
  return await certs.reload()
}

/** The file paths among PEM sources (inline PEM text and Buffers have none). */
export function filesOf (sources: PemSource[]): string[] {
  return sources.map(pemFilePath).filter((path) => path !== null)
}
