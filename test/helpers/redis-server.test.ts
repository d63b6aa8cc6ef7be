import net from 'node:net'
import { once } from 'node:events'
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { freePort, startRedisServer, type RedisServerHandle, type RedisServerTest } from './redis-server.js'
import { probeService } from './services.js'

/**
 * Stand-ins for `redis-server`, so the lifecycle is tested on every machine:
 * `fake-redis` answers +PONG on `--port N`; `stubborn-redis` does too but
 * ignores SIGTERM; `silent-redis` never listens; `broken-redis` exits at once.
 */
function fakeCommands (t: Test): Record<'fake' | 'stubborn' | 'silent' | 'broken', string> {
  const server = `
    const net = require('node:net')
    const [mode, ...args] = process.argv.slice(2)
    if (mode === 'stubborn') process.on('SIGTERM', () => {})
    const port = Number(args[args.indexOf('--port') + 1])
    net.createServer(s => s.on('data', () => s.write('+PONG\\r\\n'))).listen(port, '127.0.0.1')
  `
  const dir = t.testdir({
    'fake-redis.cjs': server,
    fake: `#!/bin/sh\nexec "${process.execPath}" "$(dirname "$0")/fake-redis.cjs" pong "$@"\n`,
    stubborn: `#!/bin/sh\nexec "${process.execPath}" "$(dirname "$0")/fake-redis.cjs" stubborn "$@"\n`,
    silent: '#!/bin/sh\nexec sleep 30\n',
    broken: '#!/bin/sh\necho "Could not create server TCP listening socket: bind: Address already in use"\nexit 1\n'
  })
  const commands = { fake: '', stubborn: '', silent: '', broken: '' }
  for (const name of Object.keys(commands) as Array<keyof typeof commands>) {
    commands[name] = join(dir, name)
    chmodSync(commands[name], 0o755)
  }
  return commands
}

/** A `t`-like object that records the policy and the teardowns. */
function recorder (): RedisServerTest & { calls: Array<[string, string]>, teardowns: Array<() => unknown> } {
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

async function pong (url: string): Promise<boolean> {
  return (await probeService('redis', url, { timeout: 500 })).ok
}

async function exited (server: RedisServerHandle): Promise<void> {
  while (server.running) await sleep(10)
}

t.test('freePort: a loopback port nobody listens on', async t => {
  const port = await freePort()
  t.ok(port > 0 && port < 65536)
  const server = net.createServer().listen(port, '127.0.0.1')
  await once(server, 'listening')
  server.close()
  t.pass('the port can be bound')
})

t.test('fake redis-server: start, stop, kill, restart on the same port', async t => {
  const commands = fakeCommands(t)
  const server = await startRedisServer(t, { command: commands.fake })
  if (server === null) return t.fail('the fake command must start')
  t.equal(server.url, `redis://127.0.0.1:${server.port}`)
  t.equal(server.host, '127.0.0.1')
  t.ok(server.pid > 0)
  t.ok(server.running)
  t.ok(await pong(server.url), 'answers PING')

  await server.stop()
  t.notOk(server.running)
  t.notOk(await pong(server.url), 'stop() frees the port')
  await server.stop()
  t.pass('stop() is idempotent')

  const before = server.pid
  await server.restart()
  t.ok(server.running)
  t.not(server.pid, before, 'a new process')
  t.ok(await pong(server.url), 'back on the same port')

  t.equal(server.kill(), true, 'kill() defaults to SIGKILL')
  await exited(server)
  t.notOk(await pong(server.url), 'gone after SIGKILL')
  await server.restart()
  t.ok(await pong(server.url), 'restart() after a crash')
})

t.test('the teardown stops the server', async t => {
  const commands = fakeCommands(t)
  const policy = recorder()
  const server = await startRedisServer(policy, { command: commands.fake })
  if (server === null) return t.fail('the fake command must start')
  t.equal(policy.teardowns.length, 1)
  t.same(policy.calls, [])
  for (const teardown of policy.teardowns) await teardown()
  t.notOk(server.running)
  t.notOk(await pong(server.url))
})

t.test('stop() sends SIGKILL after stopTimeout when SIGTERM is ignored', async t => {
  const commands = fakeCommands(t)
  const port = await freePort()
  const server = await startRedisServer(t, { command: commands.stubborn, port, stopTimeout: 200 })
  if (server === null) return t.fail('the fake command must start')
  t.equal(server.port, port, 'uses the given port')
  const started = Date.now()
  await server.stop()
  t.ok(Date.now() - started >= 150, 'waited for the grace period')
  t.notOk(server.running)
})

t.test('a server that never answers PING is an error, and is killed', async t => {
  const commands = fakeCommands(t)
  await t.rejects(startRedisServer(t, { command: commands.silent, startTimeout: 200 }), {
    message: /^redis-server did not answer PING at redis:\/\/127\.0\.0\.1:\d+ within 200 ms \(connect ECONNREFUSED/
  })
})

t.test('a server that exits at start is an error with its output', async t => {
  const commands = fakeCommands(t)
  await t.rejects(startRedisServer(t, { command: commands.broken }), {
    message: /^redis-server exited \(code 1, signal null\) before answering PING at redis:\/\/127\.0\.0\.1:\d+: Could not create server TCP listening socket: bind: Address already in use$/
  })
})

t.test('no redis-server: skip, or fail with CI=true', async t => {
  const command = join(t.testdirName, 'no-such-redis-server')
  const local = recorder()
  t.equal(await startRedisServer(local, { command, env: {} }), null)
  t.same(local.calls, [[
    'skip',
    `cannot run ${command}: spawn ${command} ENOENT (skipped; with CI=true this fails)`
  ]])
  t.same(local.teardowns, [], 'nothing to tear down')

  const ci = recorder()
  t.equal(await startRedisServer(ci, { command, env: { CI: 'true' } }), null)
  t.same(ci.calls, [[
    'fail',
    `cannot run ${command}: spawn ${command} ENOENT (CI=true: a required service must be available)`
  ]])
})

t.test('the real redis-server', async t => {
  const server = await startRedisServer(t)
  if (server === null) return
  const probe = await probeService('redis', server.url)
  t.match(probe, { ok: true, port: server.port, detail: 'PONG' }, 'answers PING')

  t.ok(server.kill('SIGSTOP'), 'paused: Redis hangs')
  t.match(await probeService('redis', server.url, { timeout: 300 }), { ok: false, reason: 'no answer within 300 ms' })
  const started = Date.now()
  await server.stop()
  t.ok(Date.now() - started < 4000, 'stop() resumes a paused server so SIGTERM works')
  t.notOk(await pong(server.url), 'stop() frees the port')

  await server.restart()
  t.ok(await pong(server.url), 'restart() comes back on the same port')
  server.kill('SIGKILL')
  await exited(server)
  t.notOk(await pong(server.url), 'Redis goes away')
  await server.restart()
  t.ok(await pong(server.url), 'and comes back')

  const busy = net.createServer().listen(0, '127.0.0.1')
  await once(busy, 'listening')
  t.teardown(() => { busy.close() })
  await t.rejects(startRedisServer(t, { port: (busy.address() as net.AddressInfo).port }), {
    message: /exited \(code 1, signal null\) before answering PING.*Address already in use/s
  }, 'a taken port is an error that says so')
})
