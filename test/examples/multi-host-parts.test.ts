import { readFile } from 'node:fs/promises'
import { test } from 'tap'
import { nginxCommand, readMultiHostConfig, VARIABLES } from '../../examples/multi-host/config.js'
import { nginxConf, renderNginxConf, templatePath, type NginxConfValues } from '../../examples/multi-host/nginx-conf.js'
import { accepts, freePort, ManagedProcess, redisAnswers } from '../../examples/multi-host/processes.js'

test('launcher settings: defaults, every variable, and errors that name the variable', async (t) => {
  t.same(readMultiHostConfig({}), {
    port: 9443,
    redirectPort: 9080,
    appPort: 3000,
    workers: 2,
    sessionStore: 'redis',
    redisUrl: null,
    redisSentinels: null,
    sentinel: false,
    sticky: false,
    tls: null,
    nginx: nginxCommand({})
  })
  t.same(readMultiHostConfig({
    PORT: '443',
    REDIRECT_PORT: '0',
    APP_PORT: '8000',
    WORKERS: '',
    SESSION_STORE: 'memory',
    REDIS_URL: 'redis://r:6379',
    STICKY: '1',
    SENTINEL: '0',
    TLS_CERT: '/c.pem',
    TLS_KEY: '/k.pem',
    NGINX: '/opt/nginx'
  }), {
    port: 443,
    redirectPort: 0,
    appPort: 8000,
    workers: 1,
    sessionStore: 'memory',
    redisUrl: 'redis://r:6379',
    redisSentinels: null,
    sentinel: false,
    sticky: true,
    tls: { cert: '/c.pem', key: '/k.pem' },
    nginx: '/opt/nginx'
  })
  t.equal(readMultiHostConfig({ SESSION_STORE: '', WORKERS: '3' }).workers, 3)
  t.match(readMultiHostConfig({ SENTINEL: '1', REDIS_URL: '' }), { sentinel: true, redisUrl: null, redisSentinels: null }, 'SENTINEL=1: a master, a replica and a sentinel of its own')
  t.match(readMultiHostConfig({ REDIS_SENTINELS: '10.0.0.5:26379,10.0.0.6:26379' }), { sentinel: false, redisUrl: null, redisSentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26379 }] }, 'sentinels of your own')
  t.equal(nginxCommand({}, () => true), '/usr/sbin/nginx')
  t.equal(nginxCommand({ NGINX: '' }, () => false), 'nginx', 'else nginx from PATH')

  const cases: Array<[NodeJS.ProcessEnv, string]> = [
    [{ PORT: '0' }, 'PORT: expected a port number, got "0"'],
    [{ REDIRECT_PORT: 'x' }, 'REDIRECT_PORT: expected a port number (0 turns it off), got "x"'],
    [{ SESSION_STORE: 'mongo' }, 'SESSION_STORE: expected one of cluster, memory, redis, postgres, mysql, memcached, tiered, got "mongo"'],
    [{ WORKERS: '0' }, 'WORKERS: expected a whole number from 1 to 1024, got "0"'],
    [{ WORKERS: '1000' }, /^WORKERS: expected a whole number from 1 to \d+, got "1000"$/.source],
    [{ WORKERS: '2', SESSION_STORE: 'memory' }, 'WORKERS: SESSION_STORE=memory keeps a session in one worker\'s memory: use WORKERS=1, or SESSION_STORE=cluster (the host\'s memory, shared by its workers)'],
    [{ STICKY: 'yes' }, 'STICKY: expected one of 0, 1, got "yes"'],
    [{ SENTINEL: 'on' }, 'SENTINEL: expected one of 0, 1, got "on"'],
    [{ SENTINEL: '1', REDIS_URL: 'redis://r:6379' }, 'SENTINEL: SENTINEL=1 runs a Redis master, replica and sentinel of its own, not with REDIS_URL; for sentinels of your own, set REDIS_SENTINELS (and REDIS_SENTINEL_NAME) without SENTINEL: the hosts read them from the environment'],
    [{ SENTINEL: '1', REDIS_SENTINELS: '10.0.0.5:26379' }, 'SENTINEL: SENTINEL=1 runs a Redis master, replica and sentinel of its own, not with REDIS_SENTINELS; for sentinels of your own, set REDIS_SENTINELS (and REDIS_SENTINEL_NAME) without SENTINEL: the hosts read them from the environment'],
    [{ REDIS_SENTINELS: '10.0.0.5' }, 'REDIS_SENTINELS: "10.0.0.5" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: '10.0.0.5:26379', REDIS_URL: 'redis://r:6379' }, 'REDIS_SENTINELS: set REDIS_URL or REDIS_SENTINELS, not both'],
    [{ TLS_CERT: '/c.pem' }, 'TLS_KEY: TLS_CERT and TLS_KEY go together'],
    [{ TLS_KEY: '/k.pem' }, 'TLS_CERT: TLS_CERT and TLS_KEY go together']
  ]
  for (const [env, message] of cases) {
    t.throws(() => readMultiHostConfig(env), { name: 'ConfigError', code: 'FLEET_APP_CONFIG', message: message.startsWith('^') ? new RegExp(message) : message }, message)
  }
})

const VALUES: NginxConfValues = {
  RUN_DIR: '/run/fleet',
  LISTEN_ADDRESS: '127.0.0.1',
  PORT: 9443,
  REDIRECT_PORT: 9080,
  TLS_CERT: '/tls/cert.pem',
  TLS_KEY: '/tls/key.pem',
  PROXY_BIND: '127.0.0.10',
  APP_PORT: 3000,
  STICKY: false
}

test('nginx.conf.template: placeholders filled in, sticky lines on or off, no plain listener with REDIRECT_PORT=0', async (t) => {
  const conf = await nginxConf(VALUES)
  t.notMatch(conf, /\$\{[A-Z_]+\}/, 'no placeholder left')
  t.match(conf, /listen 127\.0\.0\.1:9443 ssl http2;\n\s+listen 127\.0\.0\.1:9080;/)
  t.match(conf, /server 127\.0\.0\.13:3000 max_fails=1 fail_timeout=10s;/)
  t.match(conf, /proxy_bind 127\.0\.0\.10;/)
  t.match(conf, /\n\s+# hash \$sticky_route consistent;/, 'round-robin: the hash line is a comment')
  t.match(conf, /\n\s+# add_header Set-Cookie \$sticky_cookie always;/)
  const sticky = await nginxConf({ ...VALUES, STICKY: true, REDIRECT_PORT: 0 })
  t.match(sticky, /\n\s+hash \$sticky_route consistent;/)
  t.match(sticky, /\n\s+add_header Set-Cookie \$sticky_cookie always;/)
  t.notMatch(sticky, /listen 127\.0\.0\.1:0;/)
  t.throws(() => renderNginxConf('pid ${PID_FILE};', VALUES), { message: 'nginx.conf.template: no value for ${PID_FILE}' }) // eslint-disable-line no-template-curly-in-string
})

test('the template is found beside the module, or from dist/ in the sources', async (t) => {
  t.equal(await readFile(templatePath(), 'utf8'), await readFile(new URL('../../examples/multi-host/nginx.conf.template', import.meta.url), 'utf8'))
  t.equal(templatePath('file:///repo/dist/examples/multi-host/nginx-conf.js', () => false), '/repo/examples/multi-host/nginx.conf.template')
})

test('ManagedProcess: lines, waits that end, stop by pid with a deadline', async (t) => {
  await t.rejects(ManagedProcess.start('nothing', '/nonexistent/command', []), { message: /^cannot run \/nonexistent\/command \(nothing\): / })

  const script = 'console.log(JSON.stringify({ msg: "up" })); console.error("plain text"); process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'
  const seen: unknown[] = []
  const stubborn = await ManagedProcess.start('stubborn', process.execPath, ['-e', script], { onLine: (l) => seen.push(l) })
  t.teardown(() => { if (stubborn.running) process.kill(stubborn.pid, 'SIGKILL') })
  await stubborn.waitForLines((l) => l.msg === 'plain text', 1, 'its text', 10_000)
  await stubborn.waitForLines((l) => l.msg === 'up', 1, 'up', 10_000)
  t.same(seen.length, 2)
  await t.rejects(stubborn.waitForLines((l) => l.msg === 'never', 1, 'never', 50), { message: /^stubborn: no never within 50 ms: / })
  await t.rejects(stubborn.waitUntil(async () => false, 'never', 50), { message: /^stubborn: no never within 50 ms/ })
  await stubborn.stop('SIGTERM', 200)
  t.equal(await stubborn.exited, 'SIGKILL', 'SIGKILL after the grace period')
  t.notOk(stubborn.running)
  await stubborn.stop()
  await t.rejects(stubborn.waitForLines((l) => l.msg === 'never', 1, 'never', 10_000), { message: /^stubborn exited before never/ })

  const port = await freePort()
  t.equal(await accepts('127.0.0.1', port), false)
  t.equal(await redisAnswers('127.0.0.1', port), false)
})

test('redisAnswers: PONG, or another answer', async (t) => {
  const { createServer } = await import('node:net')
  for (const [answer, ok] of [['+PONG\r\n', true], ['-NOAUTH\r\n', false]] as const) {
    const server = createServer((socket) => socket.once('data', () => socket.write(answer)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    t.equal(await accepts('127.0.0.1', port), true)
    t.equal(await redisAnswers('127.0.0.1', port), ok, answer)
    await new Promise((resolve) => server.close(resolve))
  }
})

test('examples/multi-host/README.md lists every variable the launcher reads', async (t) => {
  const readme = await readFile(new URL('../../examples/multi-host/README.md', import.meta.url), 'utf8')
  const rows = readme.split('\n').filter((line) => line.startsWith('| `'))
  for (const name of [...Object.keys(VARIABLES), 'NGINX']) {
    t.ok(rows.some((row) => row.includes(`\`${name}\``)), `${name} has a row`)
  }
})
