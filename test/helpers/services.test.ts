import net from 'node:net'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import {
  DEFAULT_TIMEOUT,
  parseServiceUrl,
  probeService,
  requireService,
  resolveServiceUrl,
  serviceEnvVar,
  unavailable,
  type PolicyTest,
  type ServiceName
} from './services.js'

/** A `t`-like object that records what the policy did. */
function recorder (): PolicyTest & { calls: Array<[string, string]> } {
  const calls: Array<[string, string]> = []
  return {
    calls,
    pass: (message: string, extra: { skip: true }) => calls.push([extra.skip ? 'skip' : 'pass', message]),
    fail: (message: string) => calls.push(['fail', message])
  }
}

/** A loopback TCP server speaking just enough of a protocol; closed at teardown. */
async function fakeServer (t: Test, onConnection: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    onConnection(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  })
  return (server.address() as net.AddressInfo).port
}

/** Answers the first request with `chunks`, written a little apart so they arrive separately. */
function answer (chunks: Array<string | Buffer>, received?: Buffer[]) {
  return (socket: net.Socket) => {
    socket.once('data', async data => {
      received?.push(data)
      for (const chunk of chunks) {
        socket.write(chunk)
        await sleep(30)
      }
    })
  }
}

/** Greets with `chunks` as soon as a client connects (MySQL speaks first). */
function greet (chunks: Array<string | Buffer>) {
  return async (socket: net.Socket) => {
    for (const chunk of chunks) {
      socket.write(chunk)
      await sleep(30)
    }
  }
}

/** A MySQL packet: 3-byte little-endian length, sequence id 0, payload. */
function mysqlPacket (payload: Buffer): Buffer {
  const header = Buffer.alloc(4)
  header.writeUIntLE(payload.length, 0, 3)
  return Buffer.concat([header, payload])
}

async function closedPort (): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

t.test('resolveServiceUrl: env variable, else the local default', async t => {
  t.equal(resolveServiceUrl('redis', {}), 'redis://127.0.0.1:6379')
  t.equal(resolveServiceUrl('postgres', {}), 'postgres://postgres@127.0.0.1:5432/test')
  t.equal(resolveServiceUrl('mysql', {}), 'mysql://root@127.0.0.1:3306/test')
  t.equal(resolveServiceUrl('memcached', {}), 'memcached://127.0.0.1:11211')
  t.equal(resolveServiceUrl('redis', { REDIS_URL: 'redis://10.0.0.1:7000' }), 'redis://10.0.0.1:7000')
  t.equal(resolveServiceUrl('postgres', { DATABASE_URL: 'postgresql://u@db/x' }), 'postgresql://u@db/x')
  t.equal(resolveServiceUrl('mysql', { MYSQL_URL: '' }), 'mysql://root@127.0.0.1:3306/test', 'empty means unset')
  t.equal(resolveServiceUrl('memcached'), process.env.MEMCACHED_URL || 'memcached://127.0.0.1:11211', 'reads process.env by default')
  t.same(
    (['redis', 'postgres', 'mysql', 'memcached'] as ServiceName[]).map(serviceEnvVar),
    ['REDIS_URL', 'DATABASE_URL', 'MYSQL_URL', 'MEMCACHED_URL']
  )
  t.equal(DEFAULT_TIMEOUT, 2000)
})

t.test('parseServiceUrl: host and port, default ports, bad URLs', async t => {
  t.same(parseServiceUrl('redis', 'redis://127.0.0.1:6380/2'), { host: '127.0.0.1', port: 6380 })
  t.same(parseServiceUrl('redis', 'redis://:secret@localhost'), { host: 'localhost', port: 6379 })
  t.same(parseServiceUrl('postgres', 'postgresql://u:p@[::1]/test'), { host: '::1', port: 5432 })
  t.same(parseServiceUrl('mysql', 'mariadb://root@db.example'), { host: 'db.example', port: 3306 })
  t.same(parseServiceUrl('memcached', 'memcache://cache:11300'), { host: 'cache', port: 11300 })
  t.throws(() => parseServiceUrl('redis', 'localhost:6379'), {
    message: 'REDIS_URL must start with redis://, got "localhost:6379"'
  })
  t.throws(() => parseServiceUrl('postgres', 'not a url'), {
    message: 'DATABASE_URL is not a valid URL: "not a url"'
  })
  t.throws(() => parseServiceUrl('mysql', 'postgres://127.0.0.1/test'), {
    message: 'MYSQL_URL must start with mysql: or mariadb://, got "postgres://127.0.0.1/test"'
  })
})

t.test('probeService: Redis PING', async t => {
  const received: Buffer[] = []
  const port = await fakeServer(t, answer(['+PO', 'NG\r\n'], received))
  const url = `redis://127.0.0.1:${port}`
  t.same(await probeService('redis', url), { ok: true, name: 'redis', url, host: '127.0.0.1', port, detail: 'PONG' })
  t.equal(Buffer.concat(received).toString(), '*1\r\n$4\r\nPING\r\n', 'sends a RESP PING')

  const locked = await fakeServer(t, answer(['-NOAUTH Authentication required.\r\n']))
  const probe = await probeService('redis', `redis://127.0.0.1:${locked}`)
  t.match(probe, { ok: true, detail: 'NOAUTH Authentication required.' }, 'a password-protected server is reachable')

  const other = await fakeServer(t, answer(['-ERR unknown command\r\n']))
  t.match(await probeService('redis', `redis://127.0.0.1:${other}`), {
    ok: false, name: 'redis', reason: 'unexpected reply to PING: "-ERR unknown command"'
  })
})

t.test('probeService: Memcached version', async t => {
  const received: Buffer[] = []
  const port = await fakeServer(t, answer(['VERS', 'ION 1.6.18\r\n'], received))
  t.match(await probeService('memcached', `memcached://127.0.0.1:${port}`), { ok: true, port, detail: 'VERSION 1.6.18' })
  t.equal(Buffer.concat(received).toString(), 'version\r\n')

  const other = await fakeServer(t, answer(['ERROR\r\n']))
  t.match(await probeService('memcached', `memcached://127.0.0.1:${other}`), {
    ok: false, reason: 'unexpected reply to "version": "ERROR"'
  })
})

t.test('probeService: PostgreSQL SSLRequest', async t => {
  const received: Buffer[] = []
  const plain = await fakeServer(t, answer(['N'], received))
  t.match(await probeService('postgres', `postgres://u@127.0.0.1:${plain}/test`), { ok: true, detail: 'SSL not supported' })
  t.same([...Buffer.concat(received)], [0, 0, 0, 8, 4, 210, 22, 47], 'length 8, code 80877103')

  const tls = await fakeServer(t, answer(['S']))
  t.match(await probeService('postgres', `postgresql://127.0.0.1:${tls}`), { ok: true, detail: 'SSL supported' })

  const other = await fakeServer(t, answer(['E']))
  t.match(await probeService('postgres', `postgres://127.0.0.1:${other}`), {
    ok: false, reason: 'unexpected reply to SSLRequest: "E"'
  })
})

t.test('probeService: MySQL/MariaDB handshake', async t => {
  const handshake = mysqlPacket(Buffer.concat([Buffer.from([10]), Buffer.from('11.4.2-MariaDB\0'), Buffer.alloc(20, 1)]))
  const port = await fakeServer(t, greet([handshake.subarray(0, 2), handshake.subarray(2, 6), handshake.subarray(6)]))
  t.match(await probeService('mysql', `mysql://root@127.0.0.1:${port}/test`), { ok: true, port, detail: '11.4.2-MariaDB' })

  const refusal = mysqlPacket(Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from("Host '10.1.1.1' is not allowed to connect")]))
  const refusing = await fakeServer(t, greet([refusal]))
  t.match(await probeService('mysql', `mysql://127.0.0.1:${refusing}`), {
    ok: false, reason: "server refused the connection: Host '10.1.1.1' is not allowed to connect"
  })

  const old = await fakeServer(t, greet([mysqlPacket(Buffer.from([9, 0]))]))
  t.match(await probeService('mysql', `mysql://127.0.0.1:${old}`), {
    ok: false, reason: 'unexpected handshake protocol version 9'
  })
})

t.test('probeService: unreachable servers come back with a reason', async t => {
  const port = await closedPort()
  const refused = await probeService('redis', `redis://127.0.0.1:${port}`)
  t.match(refused, { ok: false, name: 'redis', url: `redis://127.0.0.1:${port}`, reason: /ECONNREFUSED/ })

  const silent = await fakeServer(t, () => {})
  const started = Date.now()
  t.same(await probeService('memcached', `memcached://127.0.0.1:${silent}`, { timeout: 150 }), {
    ok: false, name: 'memcached', url: `memcached://127.0.0.1:${silent}`, reason: 'no answer within 150 ms'
  })
  t.ok(Date.now() - started < 1500, 'gives up at the timeout')

  const hangsUp = await fakeServer(t, socket => socket.end())
  t.match(await probeService('mysql', `mysql://127.0.0.1:${hangsUp}`), {
    ok: false, reason: 'connection closed before a complete answer'
  })

  t.same(await probeService('postgres', 'mysql://127.0.0.1:3306'), {
    ok: false,
    name: 'postgres',
    url: 'mysql://127.0.0.1:3306',
    reason: 'DATABASE_URL must start with postgres: or postgresql://, got "mysql://127.0.0.1:3306"'
  })
})

t.test('requireService: reachable → the endpoint', async t => {
  const port = await fakeServer(t, answer(['+PONG\r\n']))
  const url = `redis://127.0.0.1:${port}`
  const policy = recorder()
  t.same(await requireService(policy, 'redis', { env: { REDIS_URL: url, CI: 'true' } }), {
    name: 'redis', url, host: '127.0.0.1', port
  })
  t.same(policy.calls, [], 'neither skips nor fails')
})

t.test('requireService: unreachable → skip unless CI=true, then fail', async t => {
  const url = `memcached://127.0.0.1:${await closedPort()}`
  const reason = new RegExp(`^memcached unavailable at ${url} \\(MEMCACHED_URL\\): connect ECONNREFUSED`)

  const local = recorder()
  t.equal(await requireService(local, 'memcached', { env: { MEMCACHED_URL: url } }), null)
  t.equal(local.calls.length, 1)
  t.equal(local.calls[0]?.[0], 'skip')
  t.match(local.calls[0]?.[1], reason)
  t.match(local.calls[0]?.[1], /\(skipped; with CI=true this fails\)$/)

  const notCi = recorder()
  await requireService(notCi, 'memcached', { env: { MEMCACHED_URL: url, CI: 'false' } })
  t.equal(notCi.calls[0]?.[0], 'skip', 'CI=false skips too')

  const ci = recorder()
  t.equal(await requireService(ci, 'memcached', { env: { MEMCACHED_URL: url, CI: 'true' } }), null)
  t.equal(ci.calls.length, 1)
  t.equal(ci.calls[0]?.[0], 'fail')
  t.match(ci.calls[0]?.[1], reason)
  t.match(ci.calls[0]?.[1], /\(CI=true: a required service must be available\)$/)

  const bad = recorder()
  await requireService(bad, 'postgres', { env: { DATABASE_URL: 'redis://127.0.0.1' } })
  t.same(bad.calls, [[
    'skip',
    'postgres unavailable at redis://127.0.0.1 (DATABASE_URL): DATABASE_URL must start with postgres: or postgresql://, ' +
      'got "redis://127.0.0.1" (skipped; with CI=true this fails)'
  ]])
})

t.test('requireService: a real tap test records the skip', async t => {
  const url = `redis://127.0.0.1:${await closedPort()}`
  let result: unknown = 'not called'
  await t.test('needs redis', async t => {
    result = await requireService(t, 'redis', { env: { REDIS_URL: url } })
  })
  t.equal(result, null)
})

t.test('unavailable: reads CI from process.env by default', async t => {
  const policy = recorder()
  t.equal(unavailable(policy, 'chromium not installed'), null)
  t.equal(policy.calls[0]?.[0], process.env.CI === 'true' ? 'fail' : 'skip')
})

for (const [name, detail] of [
  ['redis', /^PONG$|^NOAUTH/],
  ['postgres', /^SSL (not )?supported$/],
  ['mysql', /^\d+\.\d+\.\d+/],
  ['memcached', /^VERSION \d/]
] as Array<[ServiceName, RegExp]>) {
  t.test(`the real ${name} server of this machine answers`, async t => {
    const service = await requireService(t, name)
    if (service === null) return
    t.equal(service.url, resolveServiceUrl(name))
    const probe = await probeService(name, service.url)
    t.match(probe, { ok: true, host: service.host, port: service.port, detail })
  })
}
