import { test } from 'tap'
import { serverOptions, devCertificate } from '../../plugins/server/index.js'
import { resolveMode } from '../../plugins/internal/mode.js'

const INVALID = 'FST_FLEET_SERVER_INVALID_OPTION'

test('invalid options of serverOptions() fail with a code and name the option', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'https', /invalid option options: expected an object/],
    ['null', null, /invalid option options/],
    ['an array', [], /invalid option options/],
    ['unknown protocol', { protocol: 'h3' }, /invalid option protocol: expected one of "https", "http", got "h3"/],
    ['unknown mode', { mode: 'staging' }, /invalid option mode: expected one of "development", "production", got "staging"/],
    ['TLS material with http', { protocol: 'http', key: 'k.pem' }, /invalid option key: TLS material makes no sense/],
    ['ca with http', { protocol: 'http', ca: ['a'] }, /invalid option ca: TLS material/],
    ['key of a wrong type', { key: 42, cert: 'c.pem' }, /invalid option key: expected PEM text/],
    ['empty cert path', { key: 'k.pem', cert: '' }, /invalid option cert: expected PEM text/],
    ['key without cert', { key: 'k.pem' }, /invalid option cert: `key` and `cert` go together/],
    ['cert without key', { cert: 'c.pem' }, /invalid option key: `key` and `cert` go together/],
    ['ca of a wrong type', { key: 'k.pem', cert: 'c.pem', ca: [1] }, /invalid option ca: expected PEM text/],
    ['ca without cert', { ca: 'ca.pem' }, /invalid option ca: `ca` needs `key` and `cert`/],
    ['passphrase not a string', { key: 'k.pem', cert: 'c.pem', passphrase: 1 }, /invalid option passphrase/],
    ['TLS 1.1', { minVersion: 'TLSv1.1' }, /invalid option minVersion: expected one of "TLSv1.2", "TLSv1.3", got "TLSv1.1"/],
    ['allowHTTP1 not a boolean', { allowHTTP1: 'yes' }, /invalid option allowHTTP1: expected a boolean/],
    ['devCertificate not an object', { devCertificate: 'yes' }, /invalid option devCertificate: expected an object/],
    ['devCertificate null', { devCertificate: null }, /invalid option devCertificate: expected an object/],
    ['a misspelt option', { key: 'k.pem', certificate: 'c.pem' }, /invalid option certificate: unknown option/]
  ]
  for (const [name, input, message] of cases) {
    // @ts-expect-error wrong on purpose
    await t.rejects(serverOptions(input), { code: INVALID, message }, name)
  }
})

test('invalid options of devCertificate() fail with a code', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /invalid option devCertificate: expected an object/],
    ['empty cacheDir', { cacheDir: '' }, /devCertificate.cacheDir: expected a non-empty string, got ""/],
    ['hosts empty', { hosts: [] }, /devCertificate.hosts: expected a non-empty list/],
    ['hosts not strings', { hosts: ['localhost', 1] }, /devCertificate.hosts/],
    ['hosts not a list', { hosts: 'localhost' }, /devCertificate.hosts/],
    ['days zero', { days: 0 }, /devCertificate.days: expected a whole number from 1 to 825, got 0/],
    ['days fractional', { days: 1.5 }, /devCertificate.days/],
    ['days too many', { days: 900 }, /devCertificate.days/],
    ['renewBefore negative', { renewBefore: -1 }, /devCertificate.renewBefore: expected a number ≥ 0, got -1/],
    ['renewBefore not a number', { renewBefore: '1' }, /devCertificate.renewBefore: expected a number ≥ 0, got "1"/],
    ['renewBefore over the validity', { days: 1, renewBefore: 86400 }, /devCertificate.renewBefore: must be shorter than the validity/],
    ['a misspelt option', { cachedir: '/tmp/x' }, /invalid option devCertificate.cachedir: unknown option/]
  ]
  for (const [name, input, message] of cases) {
    // @ts-expect-error wrong on purpose
    await t.rejects(devCertificate(input), { code: INVALID, message }, name)
  }
})

// plain HTTP/1.1 with the default limits: Fastify hands `http` to http.createServer()
const PLAIN = {
  http2: false,
  http: { headersTimeout: 20000, maxHeaderSize: 16384, connectionsCheckingInterval: 1000 },
  keepAliveTimeout: 72000,
  requestTimeout: 120000
}

test('the caller\'s options object is never changed', async (t) => {
  const opts = Object.freeze({ protocol: 'http' as const, limits: Object.freeze({ headersTimeout: 5000 }) })
  t.strictSame(await serverOptions(opts), { ...PLAIN, http: { ...PLAIN.http, headersTimeout: 5000 } })
  t.strictSame(opts, { protocol: 'http', limits: { headersTimeout: 5000 } })
})

test('protocol http gives plain HTTP/1.1 options, in either mode', async (t) => {
  t.strictSame(await serverOptions({ protocol: 'http' }), PLAIN)
  t.strictSame(await serverOptions({ protocol: 'http', mode: 'production' }), PLAIN)
})

test('the mode follows NODE_ENV unless given', async (t) => {
  t.equal(resolveMode({ NODE_ENV: 'production' }), 'production')
  t.equal(resolveMode({ NODE_ENV: 'test' }), 'development')
  t.equal(resolveMode({}), 'development')
  const saved = process.env.NODE_ENV
  t.teardown(() => { process.env.NODE_ENV = saved })
  process.env.NODE_ENV = 'production'
  t.equal(resolveMode(), 'production')
  await t.rejects(serverOptions(), { code: 'FST_FLEET_SERVER_TLS_MISSING' }, 'NODE_ENV=production without TLS material fails')
})

test('production mode without TLS material is an error, never a self-signed certificate', async (t) => {
  await t.rejects(serverOptions({ mode: 'production' }), {
    code: 'FST_FLEET_SERVER_TLS_MISSING',
    message: /no TLS key and certificate in production mode/
  })
})
