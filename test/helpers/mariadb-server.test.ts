import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import t, { type Test } from 'tap'
import { startMariaDbServer, type MariaDbServerTest } from './mariadb-server.js'
import { findCommand, processesIn } from './server-process.js'
import { probeService, unavailable } from './services.js'

/** A `t`-like object that records the policy and the teardowns. */
function recorder (): MariaDbServerTest & { calls: Array<[string, string]>, teardowns: Array<() => unknown> } {
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
  const dir = mkdtempSync('/tmp/fleet-myt-')
  chmodSync(dir, 0o755) // the mysql user must reach its directory inside
  const before = process.env.TMPDIR
  process.env.TMPDIR = dir
  t.teardown(() => {
    process.env.TMPDIR = before
    if (before === undefined) delete process.env.TMPDIR
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** A connection; its errors (the server going away) come back through its queries. */
async function connect (t: Test, url: string): Promise<mysql.Connection> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 })
  connection.on('error', (error: Error) => t.comment(`connection error: ${error.message}`))
  t.teardown(() => connection.destroy())
  return connection
}

async function rows (connection: mysql.Connection, sql: string): Promise<unknown[]> {
  return (await connection.query(sql))[0] as unknown[]
}

/** Whether a fresh login and `SELECT 1` work. */
async function answers (url: string): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 1000 })
    await connection.query('SELECT 1')
    connection.destroy()
    return true
  } catch {
    return false
  }
}

/**
 * Whether the installer (`mariadb-install-db`, as `startMariaDbServer()` runs it) and, unless
 * `installerOnly`, the server can be run; when not, applies the policy (skip, or fail with
 * `CI=true`), with `startMariaDbServer()`'s reason. For the tests that need them but do not
 * start a server with `t` itself.
 */
function mariaDbRuns (t: Test, installerOnly = false): boolean {
  const commands: Array<[string, string[]]> = [['mariadb-install-db', ['--help']]]
  if (!installerOnly) commands.push([findCommand('mariadbd', ['/usr/sbin', '/usr/libexec']), ['--version']])
  for (const [command, args] of commands) {
    const { error } = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 })
    if (error !== undefined) {
      unavailable(t, `cannot run MariaDB: ${error.message}`)
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

t.test('findCommand: the first directory that has it, else PATH', async t => {
  const dir = t.testdir({ a: {}, b: { mariadbd: '' }, c: { mariadbd: '' } })
  t.equal(findCommand('mariadbd', [join(dir, 'a'), join(dir, 'b'), join(dir, 'c')]), join(dir, 'b', 'mariadbd'))
  t.equal(findCommand('mariadbd', [join(dir, 'a')]), 'mariadbd')
})

t.test('no MariaDB: skip, or fail with CI=true', async t => {
  const tmp = privateTmp(t)
  const installCommand = join(t.testdirName, 'no-such-install-db')
  const local = recorder()
  t.equal(await startMariaDbServer(local, { installCommand, env: {} }), null)
  t.same(local.calls, [['skip', `cannot run MariaDB: spawn ${installCommand} ENOENT (skipped; with CI=true this fails)`]])
  t.same(local.teardowns, [], 'nothing to tear down')

  const ci = recorder()
  t.equal(await startMariaDbServer(ci, { installCommand, env: { CI: 'true' } }), null)
  t.same(ci.calls, [['fail', `cannot run MariaDB: spawn ${installCommand} ENOENT (CI=true: a required service must be available)`]])

  // the real installer, then no server
  if (!mariaDbRuns(t, true)) return
  const command = join(t.testdirName, 'no-such-mariadbd')
  const noServer = recorder()
  t.equal(await startMariaDbServer(noServer, { command, env: {} }), null)
  t.same(noServer.calls, [['skip', `cannot run MariaDB: spawn ${command} ENOENT (skipped; with CI=true this fails)`]], 'the installer alone is not enough')
  t.same(readdirSync(tmp), [], 'the temp directory is removed')
})

t.test('as root without the system user: skip', { skip: process.getuid?.() !== 0 && 'only as root' }, async t => {
  const local = recorder()
  t.equal(await startMariaDbServer(local, { user: 'no-such-user', env: {} }), null)
  t.same(local.calls, [['skip', 'no system user no-such-user to run MariaDB as (it refuses to run as root) (skipped; with CI=true this fails)']])
})

t.test('an installer that fails is an error with its output', async t => {
  const tmp = privateTmp(t)
  const dir = t.testdir({ 'install-db': '#!/bin/sh\necho "FATAL ERROR: Could not find mariadbd" >&2\nexit 1\n' })
  const installCommand = join(dir, 'install-db')
  chmodSync(installCommand, 0o755)
  await t.rejects(startMariaDbServer(recorder(), { installCommand }), {
    message: 'install-db exited (code 1, signal null): FATAL ERROR: Could not find mariadbd'
  })
  t.same(readdirSync(tmp), [], 'the temp directory is removed')
})

t.test('a taken port is an error that says so', async t => {
  if (!mariaDbRuns(t)) return
  const tmp = privateTmp(t)
  const busy = net.createServer().listen(0, '127.0.0.1')
  await once(busy, 'listening')
  t.teardown(() => { busy.close() })
  const policy = recorder()
  await t.rejects(startMariaDbServer(policy, { port: (busy.address() as net.AddressInfo).port }), {
    message: /^mariadbd exited \(code 1, signal null\) before accepting logins at mysql:\/\/root@127\.0\.0\.1:\d+\/test: .*Address already in use/s
  })
  t.same(policy.teardowns, [])
  t.same(readdirSync(tmp), [], 'the temp directory is removed')
})

t.test('the real MariaDB: query, hang, stop, crash, restart', async t => {
  const server = await startMariaDbServer(t)
  if (server === null) return
  t.equal(server.url, `mysql://root@127.0.0.1:${server.port}/test`)
  t.equal(server.host, '127.0.0.1')
  t.ok(server.running)
  t.same(processesIn(server.dataDir), [server.pid], 'one process, in its data directory')
  const first = await connect(t, server.url)
  t.same(await rows(first, 'SELECT DATABASE() AS db, CURRENT_USER() AS who'), [{ db: 'test', who: 'root@127.0.0.1' }])
  await first.query('CREATE TABLE notes (note VARCHAR(100)) ENGINE=InnoDB')
  await first.query("INSERT INTO notes VALUES ('before a clean stop')")

  t.ok(server.kill('SIGSTOP'), 'paused: MariaDB hangs')
  const pending = first.query('SELECT 1 AS one')
  t.notOk(await settlesWithin(pending, 300), 'on a connection already open')
  t.match(await probeService('mysql', server.url, { timeout: 300 }), { ok: false, reason: 'no answer within 300 ms' }, 'and for new ones')
  t.ok(server.kill('SIGCONT'))
  t.same((await pending)[0], [{ one: 1 }], 'and answers once resumed')

  await server.stop()
  t.notOk(server.running)
  t.same(processesIn(server.dataDir), [], 'no process of it is left')
  await t.rejects(first.query('SELECT 1'), 'the open connection is ended')
  t.notOk(await answers(server.url), 'stop() frees the port')
  await server.stop()
  t.pass('stop() is idempotent')

  const before = server.pid
  await server.restart()
  t.not(server.pid, before, 'a new process')
  const second = await connect(t, server.url)
  t.same(await rows(second, 'SELECT note FROM notes'), [{ note: 'before a clean stop' }], 'the data survived')
  await second.query("INSERT INTO notes VALUES ('before a crash')")

  t.equal(server.kill(), true, 'kill() defaults to SIGKILL')
  await t.rejects(second.query('SELECT 1'), 'the open connection fails')
  t.notOk(await answers(server.url), 'new logins fail')
  await server.restart()
  const third = await connect(t, server.url)
  t.same(await rows(third, 'SELECT note FROM notes ORDER BY note'), [{ note: 'before a clean stop' }, { note: 'before a crash' }], 'restart() after a crash recovers')

  server.kill('SIGSTOP')
  const started = Date.now()
  await server.stop()
  t.ok(Date.now() - started < 4000, 'stop() resumes a paused server so its shutdown works')
})

t.test('the teardown ends the server and removes its directory', async t => {
  const policy = recorder()
  const server = await startMariaDbServer(policy)
  if (server === null) return t.pass('skipped: no MariaDB')
  t.equal(policy.teardowns.length, 1)
  t.same(policy.calls, [])
  await connect(t, server.url)
  const pid = server.pid
  server.kill('SIGSTOP')
  for (const teardown of policy.teardowns) await teardown()
  t.ok(gone(pid), 'no process is left, even from a paused server')
  t.notOk(existsSync(server.dataDir), 'the directory is removed')
})

t.test('a server that does not accept logins is an error, and is stopped', async t => {
  const server = await startMariaDbServer(t, { startTimeout: 3000 })
  if (server === null) return
  const connection = await connect(t, server.url)
  await connection.query("ALTER USER root@'127.0.0.1' IDENTIFIED BY 'secret'")
  await t.rejects(server.restart(), {
    message: /^mariadbd did not accept logins at mysql:\/\/root@127\.0\.0\.1:\d+\/test within 3000 ms \(Access denied for user 'root'@'127\.0\.0\.1' \(using password: NO\)\)$/
  })
  t.notOk(server.running)
  t.same(processesIn(server.dataDir), [], 'what it started is stopped')
})
