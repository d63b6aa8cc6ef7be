import { readFile } from 'node:fs/promises'
import { availableParallelism, hostname } from 'node:os'
import { test } from 'tap'
import { readConfig, VARIABLES } from '../../examples/fleet-app/config.js'

const SECRET = 'x'.repeat(32)

test('defaults of every variable', async (t) => {
  t.same(readConfig({}), {
    port: 8443,
    host: '127.0.0.1',
    protocol: 'https',
    trustProxy: [],
    hostName: hostname(),
    publicPort: 443,
    workers: availableParallelism(),
    production: false,
    tls: null,
    sessionStore: 'cluster',
    sessionSecret: undefined,
    redisUrl: 'redis://127.0.0.1:6379',
    redisSentinels: null,
    redisSentinelName: 'mymaster',
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
    mysqlUrl: 'mysql://root@127.0.0.1:3306/test',
    memcachedUrl: 'memcached://127.0.0.1:11211',
    corsOrigins: [],
    redirectPort: 8080,
    allowedHosts: ['localhost', '127.0.0.1', '::1'],
    logLevel: 'info',
    readyTimeout: 10000
  })
})

test('every variable is read', async (t) => {
  t.same(readConfig({
    NODE_ENV: 'production',
    PORT: '443',
    HOST: '::',
    TRUST_PROXY: '10.0.0.0/8, 192.168.1.2,fd00::/8',
    HOST_NAME: 'web-1',
    PUBLIC_PORT: '8443',
    WORKERS: '3',
    SESSION_STORE: 'redis',
    SESSION_SECRET: SECRET,
    TLS_CERT: '/tls/cert.pem',
    TLS_KEY: '/tls/key.pem',
    TLS_CA: '/tls/ca.pem',
    REDIS_URL: 'redis://r:6379',
    REDIS_SENTINEL_NAME: 'sessions',
    DATABASE_URL: 'postgres://p/db',
    MYSQL_URL: 'mysql://m/db',
    MEMCACHED_URL: 'memcached://c:11211',
    CORS_ORIGINS: 'https://app.example.com, http://localhost:3000/',
    REDIRECT_PORT: '80',
    ALLOWED_HOSTS: 'Example.com,*.example.com',
    LOG_LEVEL: 'warn',
    READY_TIMEOUT: '30000'
  }), {
    port: 443,
    host: '::',
    protocol: 'https',
    trustProxy: ['10.0.0.0/8', '192.168.1.2', 'fd00::/8'],
    hostName: 'web-1',
    publicPort: 8443,
    workers: 3,
    production: true,
    tls: { cert: '/tls/cert.pem', key: '/tls/key.pem', ca: '/tls/ca.pem' },
    sessionStore: 'redis',
    sessionSecret: SECRET,
    redisUrl: 'redis://r:6379',
    redisSentinels: null,
    redisSentinelName: 'sessions',
    databaseUrl: 'postgres://p/db',
    mysqlUrl: 'mysql://m/db',
    memcachedUrl: 'memcached://c:11211',
    corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
    redirectPort: 80,
    allowedHosts: ['example.com', '*.example.com'],
    logLevel: 'warn',
    readyTimeout: 30000
  })
})

test('empty values mean the default; FLEET_CLUSTER=0 runs one process; REDIRECT_PORT=0 turns the redirect off', async (t) => {
  const c = readConfig({ PORT: '', HOST: '', WORKERS: '', SESSION_SECRET: '', TLS_CERT: '', TLS_KEY: '', REDIRECT_PORT: '', PROTOCOL: '', TRUST_PROXY: '', HOST_NAME: '', PUBLIC_PORT: '' })
  t.equal(c.protocol, 'https')
  t.same(c.trustProxy, [])
  t.equal(c.hostName, hostname())
  t.equal(c.port, 8443)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.sessionSecret, undefined)
  t.equal(c.tls, null)
  t.equal(c.redirectPort, 8080)
  t.equal(readConfig({ WORKERS: '4', FLEET_CLUSTER: '0' }).workers, 1)
  t.same(readConfig({ TLS_CERT: 'c', TLS_KEY: 'k', TLS_CA: '' }).tls, { cert: 'c', key: 'k', ca: undefined })
  t.equal(readConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET, REDIRECT_PORT: '0' }).redirectPort, 0)
})

test('invalid settings are refused with the variable named', async (t) => {
  const cases: Array<[NodeJS.ProcessEnv, string]> = [
    [{ PORT: '0' }, 'PORT: expected a port number, got "0"'],
    [{ PORT: '70000' }, 'PORT: expected a port number, got "70000"'],
    [{ PORT: '80a' }, 'PORT: expected a port number, got "80a"'],
    [{ REDIRECT_PORT: '-1' }, 'REDIRECT_PORT: expected a port number (0 turns it off), got "-1"'],
    [{ WORKERS: '0' }, 'WORKERS: expected a whole number from 1 to 1024, got "0"'],
    [{ WORKERS: 'two' }, 'WORKERS: expected a whole number from 1 to 1024, got "two"'],
    [{ READY_TIMEOUT: '0' }, 'READY_TIMEOUT: expected a whole number of milliseconds ≥ 1, got "0"'],
    [{ READY_TIMEOUT: '1.5' }, 'READY_TIMEOUT: expected a whole number of milliseconds ≥ 1, got "1.5"'],
    [{ SESSION_STORE: 'mongo' }, 'SESSION_STORE: expected one of cluster, memory, redis, postgres, mysql, memcached, tiered, got "mongo"'],
    [{ NODE_ENV: 'production' }, 'SESSION_SECRET: required when NODE_ENV=production'],
    [{ SESSION_SECRET: 'short' }, 'SESSION_SECRET: must be at least 32 characters long'],
    [{ TLS_CERT: 'c' }, 'TLS_KEY: TLS_CERT and TLS_KEY go together'],
    [{ TLS_KEY: 'k' }, 'TLS_CERT: TLS_CERT and TLS_KEY go together'],
    [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS: "app.example.com" is not an origin such as https://app.example.com'],
    [{ CORS_ORIGINS: 'https://app.example.com/path' }, 'CORS_ORIGINS: "https://app.example.com/path" is not an origin such as https://app.example.com'],
    [{ CORS_ORIGINS: 'ftp://files.example.com' }, 'CORS_ORIGINS: "ftp://files.example.com" is not an origin such as https://app.example.com'],
    [{ NODE_ENV: 'production', SESSION_SECRET: SECRET }, 'ALLOWED_HOSTS: required in production while the redirect listener is on (REDIRECT_PORT=0 turns it off)'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [{ FLEET_CLUSTER: 'no' }, 'FLEET_CLUSTER: expected one of 0, 1, got "no"'],
    [{ PORT: '0x50' }, 'PORT: expected a port number, got "0x50"'],
    [{ PORT: ' 80' }, 'PORT: expected a port number, got " 80"'],
    [{ REDIRECT_PORT: '1e3' }, 'REDIRECT_PORT: expected a port number (0 turns it off), got "1e3"'],
    [{ PROTOCOL: 'h2c' }, 'PROTOCOL: expected one of https, http, got "h2c"'],
    [{ PROTOCOL: 'http' }, 'TRUST_PROXY: required with PROTOCOL=http: plain HTTP is only served behind a TLS-terminating proxy, named here'],
    [{ PROTOCOL: 'http', TRUST_PROXY: '10.0.0.1', TLS_CERT: 'c', TLS_KEY: 'k' }, 'TLS_CERT: not used with PROTOCOL=http (the proxy terminates TLS)'],
    [{ PROTOCOL: 'http', TRUST_PROXY: '10.0.0.1', REDIRECT_PORT: '80' }, 'REDIRECT_PORT: must be 0 or unset with PROTOCOL=http: the app redirects the plain-HTTP requests the proxy forwards'],
    [{ PROTOCOL: 'http', TRUST_PROXY: '10.0.0.1', NODE_ENV: 'production', SESSION_SECRET: SECRET }, 'ALLOWED_HOSTS: required in production with PROTOCOL=http (the app redirects the proxy\'s plain-HTTP requests)'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY: "true" is not an IP address or CIDR range such as 10.0.0.0/8'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY: "10.0.0.0/33" is not an IP address or CIDR range such as 10.0.0.0/8'],
    [{ TRUST_PROXY: '::1/129' }, 'TRUST_PROXY: "::1/129" is not an IP address or CIDR range such as 10.0.0.0/8'],
    [{ TRUST_PROXY: '10.0.0.0/8/1' }, 'TRUST_PROXY: "10.0.0.0/8/1" is not an IP address or CIDR range such as 10.0.0.0/8'],
    [{ TRUST_PROXY: '10.0.0.0/x' }, 'TRUST_PROXY: "10.0.0.0/x" is not an IP address or CIDR range such as 10.0.0.0/8'],
    [{ PUBLIC_PORT: '0' }, 'PUBLIC_PORT: expected a port number, got "0"'],
    [{ REDIS_SENTINELS: '10.0.0.5' }, 'REDIS_SENTINELS: "10.0.0.5" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: '10.0.0.5:26379,s2:0' }, 'REDIS_SENTINELS: "s2:0" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: 's1:70000' }, 'REDIS_SENTINELS: "s1:70000" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: 's1:263x' }, 'REDIS_SENTINELS: "s1:263x" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: ':26379' }, 'REDIS_SENTINELS: ":26379" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: 'redis://s1:26379' }, 'REDIS_SENTINELS: "redis://s1:26379" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: '::1:26379' }, 'REDIS_SENTINELS: "::1:26379" is not a sentinel\'s host:port such as 10.0.0.5:26379'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_URL: 'redis://r:6379' }, 'REDIS_SENTINELS: set REDIS_URL or REDIS_SENTINELS, not both'],
    [{ REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME: expected a master name such as mymaster (no spaces), got "my master"']
  ]
  for (const [env, message] of cases) {
    t.throws(() => readConfig(env), { name: 'ConfigError', code: 'FLEET_APP_CONFIG', message }, message)
  }
})

test('REDIS_SENTINELS: a comma list of host:port (IPv6 in brackets); empty means REDIS_URL', async (t) => {
  const c = readConfig({ SESSION_STORE: 'redis', REDIS_SENTINELS: '10.0.0.5:26379, sentinel-2.internal:26380,[fd00::7]:26381,', REDIS_SENTINEL_NAME: 'sessions' })
  t.same(c.redisSentinels, [{ host: '10.0.0.5', port: 26379 }, { host: 'sentinel-2.internal', port: 26380 }, { host: 'fd00::7', port: 26381 }])
  t.equal(c.redisSentinelName, 'sessions')
  t.equal(readConfig({ REDIS_SENTINELS: 's1:26379', REDIS_URL: '' }).redisSentinelName, 'mymaster', 'an empty REDIS_URL is no conflict')
  t.equal(readConfig({ REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '' }).redisSentinels, null)
  t.equal(readConfig({ REDIS_SENTINELS: ' , ' }).redisSentinels, null, 'a list of nothing is no list')
})

test('PROTOCOL=http: behind a trusted proxy, no redirect listener of its own', async (t) => {
  const c = readConfig({ PROTOCOL: 'http', TRUST_PROXY: '127.0.0.10', REDIRECT_PORT: '0', PUBLIC_PORT: '9443' })
  t.equal(c.protocol, 'http')
  t.same(c.trustProxy, ['127.0.0.10'])
  t.equal(c.redirectPort, 0)
  t.equal(c.publicPort, 9443)
  t.equal(readConfig({ PROTOCOL: 'http', TRUST_PROXY: '127.0.0.10' }).redirectPort, 0, 'the redirect listener is off by default')
  const prod = readConfig({ PROTOCOL: 'http', TRUST_PROXY: '10.0.0.0/8', NODE_ENV: 'production', SESSION_SECRET: SECRET, ALLOWED_HOSTS: 'app.example.com' })
  t.equal(prod.production, true)
})

test('docs/examples.md lists every variable the demo reads', async (t) => {
  const docs = await readFile(new URL('../../docs/examples.md', import.meta.url), 'utf8')
  const rows = docs.split('\n').filter((line) => line.startsWith('| `'))
  for (const name of Object.keys(VARIABLES)) {
    t.ok(rows.some((row) => row.includes(`\`${name}\``)), `${name} has a row`)
  }
})
