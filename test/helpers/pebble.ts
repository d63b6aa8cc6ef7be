/**
 * A throwaway ACME server for the ACME tests: Let's Encrypt's `pebble` with `pebble-challtestsrv` as its
 * DNS server (every name resolves to 127.0.0.1), both on free loopback ports, with their own TLS
 * certificate made in a scratch folder. Pebble validates HTTP-01 challenges at
 * `http://<name>:<httpPort>/.well-known/acme-challenge/<token>`, i.e. at the test's own listener on
 * 127.0.0.1. Teardown stops both processes by PID (only those) and removes the folder.
 *
 * ```ts
 * const redirect = await httpsRedirectServer({ port: 0, host: '127.0.0.1', acmeChallenge: dir })
 * const pebble = await startPebble(t, { httpPort: redirect.port })
 * if (pebble === null) return // no pebble: skipped (or failed with CI=true)
 * new AcmeCertificates({ directoryUrl: pebble.directoryUrl, directoryCa: pebble.ca, ... })
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.js'
import { scratchProcesses } from './processes.js'
import { unavailable, type PolicyTest } from './services.js'
import { makePki } from './tls.js'

/** The part of a tap `Test` the helper needs. */
export interface PebbleTest extends PolicyTest {
  teardown: (fn: () => unknown) => unknown
}

/** Options of `startPebble()`. */
export interface PebbleOptions {
  /** Port where pebble sends HTTP-01 validation requests (the test's challenge listener). */
  httpPort: number
  /**
   * Milliseconds to wait for the directory to answer.
   * @default 20000
   */
  startTimeout?: number
  /**
   * Percentage of orders that reuse a valid authorization (pebble's `PEBBLE_AUTHZREUSE`).
   * @default 0 (every order is validated anew)
   */
  authzReuse?: number
  /**
   * Environment the skip/fail policy reads `CI` from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
}

/** A running pebble. */
export interface PebbleHandle {
  /** `https://127.0.0.1:<port>/dir` */
  directoryUrl: string
  /** PEM of the CA that issued pebble's own HTTPS certificate (for its directory and management API). */
  ca: string
  /** `https://127.0.0.1:<port>` of the management API. */
  managementUrl: string
  /** PEM of pebble's issuing root (management API `/roots/0`), to verify the certificates it issues. */
  root: () => Promise<string>
  /** PIDs of pebble and pebble-challtestsrv. */
  pids: number[]
}

const HOST = '127.0.0.1'

/** GET over HTTPS trusting `ca`; resolves `{ status, body }`, rejects on a network error. */
export async function httpsGet (url: string, ca: string, timeout = 2000): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeout} ms`)))
    req.on('error', reject)
    req.end()
  })
}

function spawnLogged (command: string, args: string[], env: NodeJS.ProcessEnv, log: { text: string }): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  const keep = (chunk: Buffer): void => { log.text = (log.text + chunk.toString()).slice(-4000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child))
    child.once('error', reject)
  })
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/**
 * Starts pebble-challtestsrv (DNS only) and pebble, waits until pebble's directory answers and
 * registers their stop at teardown. Without the `pebble` binaries it applies the project's policy
 * (fails with `CI=true`, else records a skip) and returns `null`.
 */
export async function startPebble (t: PebbleTest, options: PebbleOptions): Promise<PebbleHandle | null> {
  const { dir, children } = await scratchProcesses(t, 'fleet-pebble-')
  const pki = await makePki({ hosts: ['127.0.0.1', 'localhost'] })
  const [dnsPort, challtestManagement, listenPort, managementPort, tlsPort] =
    await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()])
  await writeFile(join(dir, 'key.pem'), pki.leaf.key)
  // (selfsigned's PEM has no final newline: Go needs one between the blocks)
  await writeFile(join(dir, 'cert.pem'), [pki.leaf.cert, pki.intermediate.cert].map((pem) => pem.trim() + '\n').join(''))
  const config = {
    pebble: {
      listenAddress: `${HOST}:${listenPort}`,
      managementListenAddress: `${HOST}:${managementPort}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      httpPort: options.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false
    }
  }
  await writeFile(join(dir, 'pebble.json'), JSON.stringify(config, null, 2))

  const log = { text: '' }
  try {
    children.push(await spawnLogged('pebble-challtestsrv', [
      '-dns01', `${HOST}:${dnsPort}`,
      '-http01', '',
      '-https01', '',
      '-tlsalpn01', '',
      '-management', `${HOST}:${challtestManagement}`,
      '-defaultIPv4', HOST,
      '-defaultIPv6', ''
    ], process.env, log))
    children.push(await spawnLogged('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `${HOST}:${dnsPort}`], {
      ...process.env,
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: String(options.authzReuse ?? 0)
    }, log))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall === undefined) throw err
    return unavailable(t, `cannot run pebble: ${(err as Error).message}`, options.env)
  }

  const handle: PebbleHandle = {
    directoryUrl: `https://${HOST}:${listenPort}/dir`,
    ca: pki.root.cert,
    managementUrl: `https://${HOST}:${managementPort}`,
    root: async () => {
      const { status, body } = await httpsGet(`${handle.managementUrl}/roots/0`, pki.root.cert)
      if (status !== 200) throw new Error(`pebble's /roots/0 answered ${status}: ${body}`)
      return body
    },
    pids: children.map((c) => c.pid as number)
  }

  try {
    await waitForDirectory(handle.directoryUrl, pki.root.cert, children, log, options.startTimeout ?? 20_000)
  } catch (err) {
    // a test file that fails at start-up may never reach its teardown: stop them now
    for (const child of children) if (!exited(child)) child.kill('SIGKILL')
    throw err
  }
  return handle
}

/** Polls pebble's directory until it answers 200; throws when a process exits or time runs out. */
async function waitForDirectory (url: string, ca: string, children: ChildProcess[], log: { text: string }, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  let reason = ''
  for (;;) {
    const dead = children.find(exited)
    if (dead !== undefined) {
      await Promise.race([once(dead, 'close'), sleep(500)])
      throw new Error(`${dead.spawnfile} exited (code ${dead.exitCode}, signal ${dead.signalCode}) before pebble answered: ${log.text.trim()}`)
    }
    try {
      const { status } = await httpsGet(url, ca, 1000)
      if (status === 200) return
      reason = `status ${status}`
    } catch (err) {
      reason = (err as Error).message
    }
    if (Date.now() >= deadline) throw new Error(`pebble's directory ${url} did not answer within the start timeout (${reason}): ${log.text.trim()}`)
    await sleep(50)
  }
}
