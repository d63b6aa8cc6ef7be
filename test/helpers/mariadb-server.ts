/**
 * A throwaway MariaDB server for fault tests ("the database goes away and
 * comes back"): a new data directory (`mariadb-install-db`) in a temp
 * directory, `root` without a password, listening on a free loopback port
 * only, with a database `test`; stopped and removed by the test's teardown.
 * It only ever signals the server it started.
 *
 * ```ts
 * t.test('store survives a MariaDB restart', async t => {
 *   const mariadb = await startMariaDbServer(t)
 *   if (mariadb === null) return // no MariaDB: skipped (or failed with CI=true)
 *   const pool = mysql.createPool({ uri: mariadb.url })
 *   mariadb.kill('SIGKILL')       // MariaDB crashes
 *   await mariadb.restart()       // and comes back: same port, same data
 * })
 * ```
 *
 * `mariadbd` refuses to run as root (unless told `--user=root`): as root,
 * `mariadb-install-db` and `mariadbd` run as the system user `mysql` (option
 * `user`), which owns the temp directory.
 */
import type { ChildProcess } from 'node:child_process'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { freePort } from './redis-server.js'
import {
  HOST, findCommand, isSpawnError, launch, run, serverAccount, serverHandle,
  type DatabaseServerHandle, type DatabaseServerOptions, type ServerSpec, type ServerTest
} from './server-process.js'
import { probeService, unavailable } from './services.js'

/** The part of a tap `Test` the helper needs (a tap `Test` fits). */
export type MariaDbServerTest = ServerTest

/** Options of `startMariaDbServer()`. */
export interface MariaDbServerOptions extends DatabaseServerOptions {
  /**
   * The server executable.
   * @default `mariadbd` in `/usr/sbin` (Debian) or `/usr/libexec` (Fedora), else from `PATH`
   */
  command?: string
  /**
   * The script that creates the data directory.
   * @default 'mariadb-install-db'
   */
  installCommand?: string
  /**
   * System user that runs both when this process is root.
   * @default 'mysql'
   */
  user?: string
}

/** A running throwaway MariaDB server (`mysql://root@127.0.0.1:<port>/test`). */
export type MariaDbServerHandle = DatabaseServerHandle

/** Small and fast, for the installer and the server alike. */
const SETTINGS = [
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=4M',
  // Each commit reaches the OS at once: it survives a crash of the server (not of the machine).
  '--innodb-flush-log-at-trx-commit=2',
  '--max-connections=50'
]

/** Why a login to `url` and `SELECT 1` do not work yet, or `null` once they do. */
async function loginProblem (url: string): Promise<string | null> {
  const probe = await probeService('mysql', url, { timeout: 500 })
  if (!probe.ok) return probe.reason
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 }).catch((err: Error) => err)
  if (connection instanceof Error) return connection.message
  try {
    await connection.query('SELECT 1')
  } finally {
    connection.destroy()
  }
  return null
}

/**
 * Creates a throwaway MariaDB data directory (`mariadb-install-db` in a temp
 * directory, `root` without a password, database `test`), starts `mariadbd`
 * on a free loopback port (its socket in the temp directory), waits until a
 * login and `SELECT 1` work and registers `t.teardown` to stop it and remove
 * the directory. `stop()` sends SIGTERM (a normal shutdown). When MariaDB
 * cannot be run (not installed), or as root without the `mysql` system user,
 * it applies the policy of `requireService()`: fails with `CI=true`, else
 * records a skip; either way it returns `null` and the caller must stop. A
 * server that runs but does not accept logins is an error (the promise
 * rejects).
 */
export async function startMariaDbServer (t: MariaDbServerTest, options: MariaDbServerOptions = {}): Promise<MariaDbServerHandle | null> {
  const user = options.user ?? 'mysql'
  const account = serverAccount(user)
  if (account === null) return unavailable(t, `no system user ${user} to run MariaDB as (it refuses to run as root)`, options.env)
  const port = options.port ?? await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fleet-mariadb-'))
  await chown(dir, account.uid, account.gid)
  const dataDir = join(dir, 'data')
  const url = `mysql://root@${HOST}:${port}/test`
  const spec: ServerSpec = {
    name: 'mariadbd',
    command: options.command ?? findCommand('mariadbd', ['/usr/sbin', '/usr/libexec']),
    args: [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      `--bind-address=${HOST}`,
      '--skip-name-resolve',
      `--tmpdir=${dir}`,
      ...SETTINGS
    ],
    account,
    url,
    port,
    dataDir,
    stopSignal: 'SIGTERM',
    startTimeout: options.startTimeout ?? 15_000,
    stopTimeout: options.stopTimeout ?? 5000,
    loginProblem: () => loginProblem(url),
    afterStop: async () => {}
  }
  let child: ChildProcess
  try {
    const init = join(dir, 'init.sql')
    await writeFile(init, 'CREATE DATABASE test;\n')
    await run(options.installCommand ?? 'mariadb-install-db', [
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal', // root@127.0.0.1 (and @localhost) without a password
      '--skip-test-db',
      '--skip-name-resolve',
      `--extra-file=${init}`,
      `--tmpdir=${dir}`,
      ...SETTINGS
    ], account)
    child = await launch(spec)
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    if (!isSpawnError(err)) throw err
    return unavailable(t, `cannot run MariaDB: ${(err as Error).message}`, options.env)
  }
  const handle = serverHandle(spec, child)
  t.teardown(async () => {
    await handle.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return handle
}
