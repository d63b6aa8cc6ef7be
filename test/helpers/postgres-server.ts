/**
 * A throwaway PostgreSQL server for fault tests ("the database goes away and
 * comes back"): a new cluster (`initdb`, trust auth, `fsync=off`) in a temp
 * directory, listening on a free loopback port only, with a database `test`;
 * stopped and removed by the test's teardown. It only ever signals the
 * processes of the cluster it created.
 *
 * ```ts
 * t.test('store survives a PostgreSQL restart', async t => {
 *   const postgres = await startPostgresServer(t)
 *   if (postgres === null) return // no initdb: skipped (or failed with CI=true)
 *   const pool = new pg.Pool({ connectionString: postgres.url })
 *   postgres.kill('SIGKILL')       // the postmaster crashes, its backends follow
 *   await postgres.restart()       // and it comes back: same port, same data
 * })
 * ```
 *
 * `initdb` and `postgres` refuse to run as root: as root, both run as the
 * system user `postgres` (option `user`), which owns the temp directory.
 * The server process is the postmaster itself (not `pg_ctl`), so `pid` and
 * `kill()` reach it; its backends are found by their working directory (the
 * data directory), since each calls `setsid()`.
 */
import { execFile, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './redis-server.js'
import {
  HOST, isSpawnError, launch, run, serverAccount, serverHandle,
  type DatabaseServerHandle, type DatabaseServerOptions, type ServerSpec, type ServerTest
} from './server-process.js'
import { probeService, unavailable } from './services.js'

/** The part of a tap `Test` the helper needs (a tap `Test` fits). */
export type PostgresServerTest = ServerTest

/** Options of `startPostgresServer()`. */
export interface PostgresServerOptions extends DatabaseServerOptions {
  /**
   * Directory of `initdb` and `postgres`.
   * @default the newest version's `bin` under `/usr/lib/postgresql` (Debian), else `PATH`
   */
  binDir?: string
  /**
   * System user that runs `initdb` and `postgres` when this process is root.
   * @default 'postgres'
   */
  user?: string
}

/** A running throwaway PostgreSQL server (`postgres://postgres@127.0.0.1:<port>/test`). */
export type PostgresServerHandle = DatabaseServerHandle

/**
 * The `bin` directory of the newest PostgreSQL under `root` (Debian installs
 * each major version in `/usr/lib/postgresql/<version>/bin`), or `''` when
 * there is none: the commands are then looked up in `PATH`.
 */
export function postgresBinDir (root = '/usr/lib/postgresql'): string {
  let versions: string[]
  try {
    versions = readdirSync(root)
  } catch {
    return ''
  }
  const newest = versions
    .filter(version => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => parseFloat(b) - parseFloat(a))[0]
  return newest === undefined ? '' : join(root, newest, 'bin')
}

/** Appended to `postgresql.conf`: loopback only, its socket in the temp directory, small and fast. */
function settings (port: number, dir: string): string {
  return [
    `port = ${port}`,
    `listen_addresses = '${HOST}'`,
    `unix_socket_directories = '${dir}'`,
    `cluster_name = 'fleet-test-${port}'`,
    'fsync = off',
    'full_page_writes = off',
    'shared_buffers = 8MB',
    'max_connections = 50',
    // In the data directory rather than /dev/shm, so a crash leaves nothing behind there.
    'dynamic_shared_memory_type = mmap',
    ''
  ].join('\n')
}

/** Why a login to `url` and `SELECT 1` do not work yet, or `null` once they do. */
async function loginProblem (url: string): Promise<string | null> {
  const probe = await probeService('postgres', url, { timeout: 500 })
  if (!probe.ok) return probe.reason
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 2000 })
  const problem = await client.connect()
    .then(() => client.query('SELECT 1'))
    .then(() => null, (err: Error) => err.message)
  await client.end()
  return problem
}

/**
 * After a crash: removes the postmaster's lock file and its small System V
 * shared memory segment (key and id on the lock file's 7th line), which
 * PostgreSQL keeps beside its mmap'ed memory. Does nothing after a clean stop.
 */
async function releaseStaleLock (dataDir: string): Promise<void> {
  const lock = join(dataDir, 'postmaster.pid')
  const line = (await readFile(lock, 'utf8').catch(() => '')).split('\n')[6]
  if (line === undefined) return
  const [key, id] = line.trim().split(/\s+/)
  const segments = (await readFile('/proc/sysvipc/shm', 'utf8')).split('\n').map(row => row.trim().split(/\s+/))
  // Ours (same key and id) and no process attached: nothing of the cluster is left.
  if (segments.some(([k, i, , , , , attached]) => k === key && i === id && attached === '0')) {
    await new Promise(resolve => execFile('ipcrm', ['-m', id as string], resolve))
  }
  await rm(lock, { force: true })
}

/**
 * Creates a throwaway PostgreSQL cluster (`initdb` in a temp directory, trust
 * auth, database `test`), starts its postmaster on a free loopback port (not
 * daemonized), waits until a login and `SELECT 1` work and registers
 * `t.teardown` to stop it, end every process it left and remove the
 * directory. `stop()` sends SIGINT (fast shutdown: sessions are ended).
 * When `initdb` or `postgres` cannot be run (not installed), or as root
 * without the `postgres` system user, it applies the policy of
 * `requireService()`: fails with `CI=true`, else records a skip; either way it
 * returns `null` and the caller must stop. A server that runs but does not
 * accept logins is an error (the promise rejects).
 */
export async function startPostgresServer (t: PostgresServerTest, options: PostgresServerOptions = {}): Promise<PostgresServerHandle | null> {
  const binDir = options.binDir ?? postgresBinDir()
  const user = options.user ?? 'postgres'
  const account = serverAccount(user)
  if (account === null) return unavailable(t, `no system user ${user} to run PostgreSQL as (it refuses to run as root)`, options.env)
  const port = options.port ?? await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fleet-postgres-'))
  await chown(dir, account.uid, account.gid)
  const dataDir = join(dir, 'data')
  const url = `postgres://postgres@${HOST}:${port}/test`
  const spec: ServerSpec = {
    name: 'postgres',
    command: join(binDir, 'postgres'),
    args: ['-D', dataDir],
    account,
    url,
    port,
    dataDir,
    stopSignal: 'SIGINT',
    startTimeout: options.startTimeout ?? 15_000,
    stopTimeout: options.stopTimeout ?? 5000,
    loginProblem: () => loginProblem(url),
    afterStop: () => releaseStaleLock(dataDir)
  }
  let child: ChildProcess
  try {
    const initdb = join(binDir, 'initdb')
    await run(initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], account)
    await appendFile(join(dataDir, 'postgresql.conf'), settings(port, dir))
    // Single-user mode creates the database before the server ever starts.
    await run(spec.command, ['--single', '-D', dataDir, '-F', '-c', 'exit_on_error=on', 'postgres'], account, 'CREATE DATABASE test;\n')
    child = await launch(spec)
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    if (!isSpawnError(err)) throw err
    return unavailable(t, `cannot run PostgreSQL: ${(err as Error).message}`, options.env)
  }
  const handle = serverHandle(spec, child)
  t.teardown(async () => {
    await handle.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return handle
}
