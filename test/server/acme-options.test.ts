// Every invalid option of new AcmeCertificates() is a coded error naming it.
import { join, resolve } from 'node:path'
import t from 'tap'
import { AcmeCertificates, LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING, type AcmeOptions } from '../../plugins/server/index.js'

const valid: AcmeOptions = {
  directoryUrl: LETS_ENCRYPT_STAGING,
  email: 'ops@example.com',
  domains: ['example.com', 'www.example.com'],
  termsOfServiceAgreed: true,
  dir: 'acme-state'
}

t.test('valid options: the file paths and defaults', async (t) => {
  const acme = new AcmeCertificates(valid)
  const dir = resolve('acme-state')
  t.equal(acme.keyFile, join(dir, 'key.pem'))
  t.equal(acme.certFile, join(dir, 'cert.pem'))
  t.equal(acme.challengeDir, join(dir, 'challenges'))
  t.equal(acme.accountKeyFile, join(dir, 'account-key.pem'))
  t.equal(acme.expiresAt, null)
  t.equal(acme.nextAttempt, null)
  t.equal(LETS_ENCRYPT_PRODUCTION, 'https://acme-v02.api.letsencrypt.org/directory')
  acme.close()
  // a pino-like logger, upper-case names, an explicit retry and every other option
  t.doesNotThrow(() => new AcmeCertificates({
    ...valid,
    domains: ['Example.COM'],
    renewBefore: 0,
    retry: { min: 1000, max: 1000 },
    directoryCa: Buffer.from('-----BEGIN CERTIFICATE-----'),
    logger: { info () {}, warn () {}, error () {} }
  }))
  t.doesNotThrow(() => new AcmeCertificates({ ...valid, retry: { min: 7 * 3600_000 } }), 'a retry.min above the default max raises max')
  t.doesNotThrow(() => new AcmeCertificates({ ...valid, directoryCa: new URL('file:///etc/ssl/ca.pem') }))
})

const cases: Array<[string, unknown, string | RegExp]> = [
  ['not an object', 'x', /invalid ACME option options: expected an object/],
  ['unknown option', { ...valid, domain: 'x' }, /option domain: unknown option/],
  ['no directoryUrl', { ...valid, directoryUrl: undefined }, /directoryUrl: expected a non-empty string/],
  ['directoryUrl not a URL', { ...valid, directoryUrl: 'acme' }, /directoryUrl: "acme" is not a URL/],
  ['directoryUrl over http', { ...valid, directoryUrl: 'http://acme.test/dir' }, /directoryUrl: ACME runs over HTTPS/],
  ['no email', { ...valid, email: undefined }, /email: expected a non-empty string/],
  ['bad email', { ...valid, email: 'ops at example.com' }, /email: expected an e-mail address/],
  ['no domains', { ...valid, domains: undefined }, /domains: expected a non-empty list/],
  ['empty domains', { ...valid, domains: [] }, /domains: expected a non-empty list/],
  ['domains not a list', { ...valid, domains: 'example.com' }, /domains: expected a non-empty list/],
  ['too many domains', { ...valid, domains: Array.from({ length: 101 }, (_, i) => `h${i}.example.com`) }, /at most 100 names/],
  ['a domain not a string', { ...valid, domains: ['example.com', 1] }, /domains\[1\]: expected a host name string/],
  ['a wildcard', { ...valid, domains: ['*.example.com'] }, /domains\[0\]: "\*\.example\.com": HTTP-01 cannot validate a wildcard/],
  ['an IPv4 address', { ...valid, domains: ['192.0.2.1'] }, /not an IP address/],
  ['an IPv6 address', { ...valid, domains: ['::1'] }, /not an IP address/],
  ['a single label', { ...valid, domains: ['localhost'] }, /"localhost" is not a fully qualified host name/],
  ['an empty label', { ...valid, domains: ['a..example.com'] }, /not a fully qualified host name/],
  ['a label starting with -', { ...valid, domains: ['-a.example.com'] }, /not a fully qualified host name/],
  ['a numeric top-level label', { ...valid, domains: ['example.123'] }, /not a fully qualified host name/],
  ['a name too long', { ...valid, domains: [`${'a'.repeat(60)}.`.repeat(5) + 'com'] }, /not a fully qualified host name/],
  ['a duplicate', { ...valid, domains: ['example.com', 'EXAMPLE.com'] }, /domains\[1\]: "EXAMPLE.com" is listed twice/],
  ['terms not agreed', { ...valid, termsOfServiceAgreed: undefined }, /termsOfServiceAgreed: must be true/],
  ['terms "yes"', { ...valid, termsOfServiceAgreed: 'yes' }, /termsOfServiceAgreed: must be true/],
  ['no dir', { ...valid, dir: undefined }, /dir: expected a non-empty string/],
  ['renewBefore negative', { ...valid, renewBefore: -1 }, /renewBefore: expected a whole number ≥ 0, got -1/],
  ['renewBefore fractional', { ...valid, renewBefore: 1.5 }, /renewBefore: expected a whole number/],
  ['retry not an object', { ...valid, retry: 5 }, /retry: expected an object/],
  ['retry unknown key', { ...valid, retry: { minimum: 5 } }, /retry\.minimum: unknown option/],
  ['retry.min zero', { ...valid, retry: { min: 0 } }, /retry\.min: expected a whole number from 1 to 2147483647/],
  ['retry.max too long for a timer', { ...valid, retry: { max: 2 ** 31 } }, /retry\.max: expected a whole number from 1 to 2147483647/],
  ['retry.max below min', { ...valid, retry: { min: 5000, max: 1000 } }, /retry\.max: must not be shorter than retry\.min \(5000\), got 1000/],
  ['directoryCa empty', { ...valid, directoryCa: '' }, /directoryCa: expected PEM text/],
  ['directoryCa a number', { ...valid, directoryCa: 1 }, /directoryCa: expected PEM text/],
  ['logger not an object', { ...valid, logger: console.log }, /logger: expected an object/],
  ['logger without warn', { ...valid, logger: { info () {}, error () {} } }, /logger\.warn: expected a function/]
]

for (const [name, input, message] of cases) {
  t.test(`${name}: FST_FLEET_SERVER_ACME_INVALID_OPTION`, async (t) => {
    const err = (() => { try { return new AcmeCertificates(input as AcmeOptions) } catch (e) { return e } })()
    t.ok(err instanceof TypeError, 'a TypeError')
    t.match(err, { code: 'FST_FLEET_SERVER_ACME_INVALID_OPTION', message })
  })
}

t.test('Fastify\'s logger fits the logger option', async (t) => {
  const { default: fastify } = await import('fastify')
  const app = fastify()
  t.doesNotThrow(() => new AcmeCertificates({ ...valid, logger: app.log }))
  await app.close()
})
