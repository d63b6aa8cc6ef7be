import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t, { type Test } from 'tap'
import { postgresBinDir, startPostgresServer, type PostgresServerHandle, type PostgresServerTest } from './postgres-server.js'
import { processesIn, serverAccount, signalEach, stopAll, systemUser, threadStates } from './server-process.js'
import { probeService, unavailable } from './services.js'

/** A `t`-like object that records the policy and the teardowns. */
function recorder (): PostgresServerTest & { calls: Array<[string, string]>, teardowns: Array<() => unknown> } {
  const calls: Array<[string, string]> = []
  const teardowns: Array<() => unknown> = []
  return {
    calls,
    teardowns,
    pass: (message: string, extra: { skip: true }) => calls.push([extra.skip ? 'skip' : 'pass', message]),
    fail: (message: string) => calls.push(['fail', message]),
    teardown: (fn: () => unknown) => teardowns.push(fn)
  }
}

/** Points `os.tmpdir()` at a short private directory for the test (the server's socket lives there too). */
function privateTmp (t: Test): string {
  const dir = mkdtempSync('/tmp/fleet-pgt-')
  chmodSync(dir, 0o755) // the postgres user must reach its directory inside
  const before = process.env.TMPDIR
  process.env.TMPDIR = dir
  t.teardown(() => {
    process.env.TMPDIR = before
    if (before === undefined) delete process.env.TMPDIR
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** A connected client; its errors (the server going away) come back through its queries. */
async function connect (t: Test, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', error => t.comment(`client error: ${error.message}`))
  await client.connect()
  t.teardown(() => client.end())
  return client
}

async function rows (client: pg.Client, sql: string): Promise<unknown[]> {
  return (await client.query(sql)).rows
}

/** Whether a fresh login and `SELECT 1` work. */
async function answers (url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end()
  }
}

/**
 * Whether `initdb` and `postgres` (where `startPostgresServer()` finds them) can be run; when not,
 * applies the policy (skip, or fail with `CI=true`), with `startPostgresServer()`'s reason. For the
 * tests that need them but do not start a server with `t` itself.
 */
function postgresRuns (t: Test): boolean {
  for (const name of ['initdb', 'postgres']) {
    const { error } = spawnSync(join(postgresBinDir(), name), ['--version'], { stdio: 'ignore', timeout: 10_000 })
    if (error !== undefined) {
      unavailable(t, `cannot run PostgreSQL: ${error.message}`)
      return false
    }
  }
  return true
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin (promise: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = promise.then(() => true, () => true)
  return await Promise.race([settled, sleep(ms, false)])
}

/** Whether process `pid` is gone (a zombie counts as gone: it holds nothing). */
function gone (pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z')
  } catch {
    return true
  }
}

async function allGone (dataDir: string): Promise<void> {
  while (processesIn(dataDir).length > 0) await sleep(20)
}

/** The System V shared memory id on the lock file's 7th line. */
function segmentOf (server: PostgresServerHandle): string {
  return readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[6]?.trim().split(/\s+/)[1] as string
}

function segmentExists (id: string): boolean {
  return readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').some(row => row.trim().split(/\s+/)[1] === id)
}

t.test('postgresBinDir: the newest version with an initdb, else PATH', async t => {
  const root = t.testdir({
    9.6: { bin: { initdb: '' } },
    10: { bin: { initdb: '' } },
    16: { bin: {} },
    README: 'not a version'
  })
  t.equal(postgresBinDir(root), join(root, '10', 'bin'))
  mkdirSync(join(root, 'empty'))
  t.equal(postgresBinDir(join(root, 'empty')), '', 'none: PATH')
  t.equal(postgresBinDir(join(root, 'missing')), '', 'no such directory: PATH')
})

t.test('systemUser and serverAccount: who runs the server', async t => {
  const dir = t.testdir({ passwd: 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\n' })
  const passwd = join(dir, 'passwd')
  t.same(systemUser('alice', passwd), { uid: 1000, gid: 1001 })
  t.equal(systemUser('ali', passwd), null, 'whole names only')
  t.same(systemUser('root'), { uid: 0, gid: 0 })
  t.same(serverAccount('root', { uid: 0, gid: 0 }), { uid: 0, gid: 0 }, 'root: the system user')
  t.equal(serverAccount('no-such-user', { uid: 0, gid: 0 }), null, 'root without that user')
  t.same(serverAccount('postgres', { uid: 1000, gid: 1001 }), { uid: 1000, gid: 1001 }, 'not root: itself')
})

t.test('processesIn, threadStates, signalEach and stopAll', async t => {
  const dir = t.testdir({
    proc: {
      12: { cwd: t.fixture('symlink', '/srv/data') },
      34: {},
      56: { cwd: t.fixture('symlink', '/srv/other') },
      self: { cwd: t.fixture('symlink', '/srv/data') }
    }
  })
  t.same(processesIn('/srv/data', join(dir, 'proc')), [12], 'by working directory; no cwd link (a zombie) is skipped')
  t.same(processesIn('/srv/data', join(dir, 'missing')), [], 'no /proc: none')
  t.ok(processesIn(process.cwd()).includes(process.pid), 'the real /proc')

  const proc = t.testdir({
    7: { task: { 7: { stat: '7 (a) b) T 1 7' }, 8: { stat: '8 (worker) R 1 7' }, 9: {} } }
  })
  t.same(threadStates(7, proc), ['T', 'R', 'T'], 'each thread; one that ended (no stat) runs no more')
  t.same(threadStates(8, proc), [], 'no such process: no threads')
  t.match(threadStates(process.pid), ['R'], 'the real /proc: this thread runs')

  const sleeper = spawn('sleep', ['30'])
  await once(sleeper, 'spawn')
  t.equal(stopAll([sleeper.pid as number]), true, 'stopAll() returns once it is stopped')
  t.same(threadStates(sleeper.pid as number), ['T'])
  const exited = once(sleeper, 'exit')
  signalEach([2147483647, sleeper.pid as number], 'SIGKILL')
  t.same(await exited, [null, 'SIGKILL'], 'signals the live one, skips the one that is gone')
})

t.test('no PostgreSQL: skip, or fail with CI=true', async t => {
  const tmp = privateTmp(t)
  const binDir = join(t.testdirName, 'nowhere')
  const local = recorder()
  t.equal(await startPostgresServer(local, { binDir, env: {} }), null)
  t.same(local.calls, [['skip', `cannot run PostgreSQL: spawn ${binDir}/initdb ENOENT (skipped; with CI=true this fails)`]])
  t.same(local.teardowns, [], 'nothing to tear down')

  const ci = recorder()
  t.equal(await startPostgresServer(ci, { binDir, env: { CI: 'true' } }), null)
  t.same(ci.calls, [['fail', `cannot run PostgreSQL: spawn ${binDir}/initdb ENOENT (CI=true: a required service must be available)`]])
  t.same(readdirSync(tmp), [], 'the temp directory is removed')
})

t.test('as root without the system user: skip', { skip: process.getuid?.() !== 0 && 'only as root' }, async t => {
  const local = recorder()
  t.equal(await startPostgresServer(local, { user: 'no-such-user', env: {} }), null)
  t.same(local.calls, [['skip', 'no system user no-such-user to run PostgreSQL as (it refuses to run as root) (skipped; with CI=true this fails)']])
})

t.test('an initdb that fails is an error with its output', async t => {
  const tmp = privateTmp(t)
  const binDir = t.testdir({ initdb: '#!/bin/sh\necho "initdb: error: no space left" >&2\nexit 1\n' })
  chmodSync(join(binDir, 'initdb'), 0o755)
  await t.rejects(startPostgresServer(recorder(), { binDir }), {
    message: 'initdb exited (code 1, signal null): initdb: error: no space left'
  })
  t.same(readdirSync(tmp), [], 'the temp directory is removed')
})

t.test('a taken port is an error that says so', async t => {
  if (!postgresRuns(t)) return
  const tmp = privateTmp(t)
  const busy = net.createServer().listen(0, '127.0.0.1')
  await once(busy, 'listening')
  t.teardown(() => { busy.close() })
  const policy = recorder()
  await t.rejects(startPostgresServer(policy, { port: (busy.address() as net.AddressInfo).port }), {
    message: /^postgres exited \(code 1, signal null\) before accepting logins at postgres:\/\/postgres@127\.0\.0\.1:\d+\/test: .*could not bind IPv4 address "127\.0\.0\.1": Address already in use/s
  })
  t.same(policy.teardowns, [])
  t.same(readdirSync(tmp), [], 'the temp directory is removed')
})

t.test('the real PostgreSQL: query, hang, stop, crash, restart', async t => {
  const server = await startPostgresServer(t)
  if (server === null) return
  t.equal(server.url, `postgres://postgres@127.0.0.1:${server.port}/test`)
  t.equal(server.host, '127.0.0.1')
  t.ok(server.running)
  t.ok(processesIn(server.dataDir).includes(server.pid), 'the pid is the postmaster, in its data directory')
  const first = await connect(t, server.url)
  t.same(await rows(first, 'SELECT current_database() AS db, current_user AS who'), [{ db: 'test', who: 'postgres' }])
  await first.query('CREATE TABLE notes (note text)')
  await first.query("INSERT INTO notes VALUES ('before a clean stop')")

  t.ok(server.kill('SIGSTOP'), 'paused: PostgreSQL hangs')
  const pending = first.query('SELECT 1 AS one')
  t.notOk(await settlesWithin(pending, 300), 'on a connection already open')
  t.match(await probeService('postgres', server.url, { timeout: 300 }), { ok: false, reason: 'no answer within 300 ms' }, 'and for new ones')
  t.ok(server.kill('SIGCONT'))
  t.same((await pending).rows, [{ one: 1 }], 'and answers once resumed')

  await server.stop()
  t.notOk(server.running)
  t.same(processesIn(server.dataDir), [], 'no process of it is left')
  await t.rejects(first.query('SELECT 1'), 'the open connection is ended')
  t.notOk(await answers(server.url), 'stop() frees the port')
  await server.stop()
  t.pass('stop() is idempotent')
  t.equal(server.kill('SIGSTOP'), false, 'nothing to pause once stopped')

  const before = server.pid
  await server.restart()
  t.not(server.pid, before, 'a new postmaster')
  const second = await connect(t, server.url)
  t.same(await rows(second, 'SELECT note FROM notes'), [{ note: 'before a clean stop' }], 'the data survived')
  await second.query("INSERT INTO notes VALUES ('before a crash')")

  t.equal(server.kill(), true, 'kill() defaults to SIGKILL')
  t.notOk(await answers(server.url), 'new logins fail')
  await allGone(server.dataDir)
  t.pass('its backends follow the postmaster (within milliseconds: until then they may still answer)')
  await t.rejects(second.query('SELECT 1'), 'the open connection fails')
  await server.restart()
  const third = await connect(t, server.url)
  t.same(await rows(third, 'SELECT note FROM notes ORDER BY note'), [{ note: 'before a clean stop' }, { note: 'before a crash' }], 'restart() after a crash recovers')

  server.kill('SIGSTOP')
  const started = Date.now()
  await server.stop()
  t.ok(Date.now() - started < 4000, 'stop() resumes a paused server so its fast shutdown works')

  await server.restart()
  await connect(t, server.url)
  const segment = segmentOf(server)
  server.kill('SIGSTOP')
  process.kill(server.pid, 'SIGKILL') // the postmaster dies, its backends are frozen and stay
  while (server.running) await sleep(10)
  t.ok(processesIn(server.dataDir).length > 0, 'backends are left behind')
  await server.restart()
  t.ok(await answers(server.url), 'restart() ends them and starts again')
  t.notOk(segmentExists(segment), 'the old shared memory segment is released')
})

t.test('stopTimeout 0: stop() kills at once, and the next start recovers', async t => {
  const server = await startPostgresServer(t, { stopTimeout: 0 })
  if (server === null) return
  await server.stop()
  t.notOk(server.running)
  t.notOk(existsSync(join(server.dataDir, 'postmaster.pid')), 'the stale lock is removed')
  await server.restart()
  t.ok(await answers(server.url))
})

t.test('the teardown ends every process and removes the cluster', async t => {
  const policy = recorder()
  const server = await startPostgresServer(policy)
  if (server === null) return t.pass('skipped: no PostgreSQL')
  t.equal(policy.teardowns.length, 1)
  t.same(policy.calls, [])
  await connect(t, server.url)
  const pids = processesIn(server.dataDir)
  t.ok(pids.length >= 5, 'postmaster, its helpers and a backend')
  const segment = segmentOf(server)
  server.kill('SIGSTOP')
  process.kill(server.pid, 'SIGKILL') // the worst case: the postmaster gone, its backends frozen
  for (const teardown of policy.teardowns) await teardown()
  t.same(pids.filter(pid => !gone(pid)), [], 'no process is left')
  t.notOk(existsSync(server.dataDir), 'the directory is removed')
  t.notOk(segmentExists(segment), 'nor is the shared memory segment left')

  const clean = recorder()
  const again = await startPostgresServer(clean)
  if (again === null) return
  const running = processesIn(again.dataDir)
  for (const teardown of clean.teardowns) await teardown()
  t.same(running.filter(pid => !gone(pid)), [], 'a clean teardown too')
  t.notOk(existsSync(again.dataDir))
})

t.test('a server that does not accept logins is an error, and is stopped', async t => {
  const server = await startPostgresServer(t, { startTimeout: 3000 })
  if (server === null) return
  const hba = join(server.dataDir, 'pg_hba.conf')
  writeFileSync(hba, `host all all 127.0.0.1/32 reject\n${readFileSync(hba, 'utf8')}`)
  await t.rejects(server.restart(), {
    message: /^postgres did not accept logins at postgres:\/\/postgres@127\.0\.0\.1:\d+\/test within 3000 ms \(pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "postgres", database "test"/
  })
  t.notOk(server.running)
  t.same(processesIn(server.dataDir), [], 'what it started is stopped')
})
