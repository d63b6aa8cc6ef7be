// Hostile session cookies against the demo as `npm start` runs it (two workers): forged, tampered,
// truncated, duplicated, oversized and malformed. None is ever taken for a session the server did
// not issue, none is a 5xx, and a logged-in user's session keeps counting through all of them.
import { createHmac, randomBytes } from 'node:crypto'
import t from 'tap'
import { h1Request, h2Request } from '../helpers/clients.js'
import { expectNoSession, expectSameWorkers, h2Burst, hostileSuite, rawRequest, sessionCookieOf, type Canary, type HostileDemo } from '../helpers/hostile.js'

// the demo starts in 8 s on an idle machine, in 40 s or more on a loaded one
t.setTimeout(180_000)

let running: HostileDemo
let canary: Canary
let sid: string
let signature: string

t.before(async () => {
  ({ running, canary } = await hostileSuite(t))
  ;[sid = '', signature = ''] = canary.cookie.slice('sessionId='.length).split('.')
  t.equal(signature.length, 43, 'an HMAC-SHA256 in base64 without padding')
})

/** express-session's signature format, with a secret the server does not have. */
const signWith = (secret: string, value: string): string =>
  `${value}.${createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')}`
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** `text` with the character at `i` replaced by another base64 character. */
const flip = (text: string, i: number): string => {
  const c = text[i] as string
  const other = B64[(B64.indexOf(c) + 1 + (i % 7)) % B64.length] as string
  return text.slice(0, i) + (other === c ? B64[(B64.indexOf(c) + 1) % 64] : other) + text.slice(i + 1)
}

t.test('forged cookies: random, a valid-looking id with a wrong signature, another secret', async (t) => {
  const forged = [
    randomBytes(32).toString('base64'),
    `${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64').replace(/=+$/, '')}`,
    `${sid}.${randomBytes(32).toString('base64').replace(/=+$/, '')}`,
    signWith('another secret of at least 32 characters', sid),
    signWith('', sid),
    signWith('another secret of at least 32 characters', randomBytes(24).toString('base64url')),
    `s:${canary.cookie.slice('sessionId='.length)}`,
    `${sid}.`,
    `${sid}`,
    `.${signature}`,
    `${sid}.${signature}.${signature}`
  ]
  for (const value of forged) await expectNoSession(t, running.origin, `sessionId=${value}`, `forged ${value.slice(0, 24)}…`)
  await canary.check(t, 'forged cookies')
})

t.test('the canary cookie with its signature truncated by 1 to 44 characters, or one character changed', async (t) => {
  const value = `${sid}.${signature}`
  for (let cut = 1; cut <= signature.length + 1; cut++) {
    await expectNoSession(t, running.origin, `sessionId=${value.slice(0, -cut)}`, `signature cut by ${cut}`)
  }
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '.') continue
    const res = await h2Request(running.origin, '/me', { headers: { cookie: `sessionId=${flip(value, i)}` } })
    t.equal(res.status, 401, `character ${i} changed`)
  }
  // the last character of a 43-character signature holds two unused bits: each value is its own signature
  for (const last of B64) {
    if (last === signature.at(-1)) continue
    const res = await h2Request(running.origin, '/me', { headers: { cookie: `sessionId=${sid}.${signature.slice(0, -1)}${last}` } })
    t.equal(res.status, 401, `last character ${last}`)
  }
  await canary.check(t, 'tampered signatures')
})

t.test('the session cookie twice: the first one counts, on both protocols', async (t) => {
  const bogus = `sessionId=${sid}.${flip(signature, 3)}`
  await expectNoSession(t, running.origin, `${bogus}; ${canary.cookie}`, 'a bad cookie before the canary\'s')
  // HTTP/2 cookie crumbs: two cookie fields, joined by the server in order
  const crumbs = await h2Request(running.origin, '/me', { headers: { cookie: [bogus, canary.cookie] as unknown as string } })
  t.equal(crumbs.status, 401, 'two cookie fields, the bad one first')
  for (const request of [h2Request, h1Request]) {
    const res = await request(running.origin, '/me', { headers: { cookie: `${canary.cookie}; ${bogus}` } })
    canary.noteView()
    t.strictSame([res.status, JSON.parse(res.body).views], [200, canary.views], `the canary's cookie first is the canary (${res.httpVersion})`)
  }
  // the same cookie percent-encoded, or among others: the same session
  const value = canary.cookie.slice('sessionId='.length)
  for (const same of [`sessionId=${encodeURIComponent(value)}`, `other=1; ${canary.cookie}; more=2`]) {
    const res = await h2Request(running.origin, '/me', { headers: { cookie: same } })
    canary.noteView()
    t.strictSame([res.status, JSON.parse(res.body).views], [200, canary.views], `${same.slice(0, 24)}…: the canary's own cookie`)
  }
  await expectNoSession(t, running.origin, `sessionId="${value}"`, 'in RFC 6265 quotes (not unquoted by the parser)')
  await expectNoSession(t, running.origin, `sessionid=${value}`, 'the name in another case')
  await expectNoSession(t, running.origin, `sessionId =${value}x`, 'a space before =')
  await canary.check(t, 'duplicated cookies')
})

t.test('oversized cookies: 8 KB answered, 64 KB refused before the app (431, or the HTTP/2 stream refused)', async (t) => {
  await expectNoSession(t, running.origin, `sessionId=${'a'.repeat(8 * 1024)}`, '8 KB value')
  await expectNoSession(t, running.origin, `${canary.cookie}x${'a'.repeat(8 * 1024)}`, 'the canary\'s cookie with 8 KB appended')
  const big = `sessionId=${'a'.repeat(64 * 1024)}`
  const h1 = await h1Request(running.origin, '/me', { headers: { cookie: big } })
  t.strictSame([h1.status, JSON.parse(h1.body).error], [431, 'Request Header Fields Too Large'])
  await t.rejects(h2Request(running.origin, '/me', { headers: { cookie: big } }), { code: 'ERR_HTTP2_STREAM_ERROR', message: /NGHTTP2_REFUSED_STREAM/ })
  const many = Array.from({ length: 300 }, (_, i) => `c${i}=${i}`).join('; ')
  await expectNoSession(t, running.origin, many, '300 cookies')
  await expectNoSession(t, running.origin, `${many}; sessionId=${sid}.${flip(signature, 0)}`, '300 cookies, then a tampered session cookie')
  await canary.check(t, 'oversized cookies')
})

t.test('malformed values: empty, NUL, CR, bytes over 0x7f, bad percent-encoding, unicode', async (t) => {
  for (const value of ['', '=', ';', '%', '%zz', '%E0%A4%A', 'é', `${sid}%00.${signature}`, '""', '"unterminated']) {
    await expectNoSession(t, running.origin, `sessionId=${value}`, `value ${JSON.stringify(value)}`)
  }
  await expectNoSession(t, running.origin, '', 'an empty Cookie header')
  await expectNoSession(t, running.origin, ';;;=;=x;', 'only separators')
  // bytes no client library sends: raw HTTP/1.1 over TLS
  // (Node's parser refuses control characters in a header value with 400, before the app)
  const cases: Array<[string, Buffer, number]> = [
    ['NUL', Buffer.from(`sessionId=${sid}\0.${signature}`, 'latin1'), 400],
    ['a bare CR', Buffer.from(`sessionId=${sid}\r.${signature}`, 'latin1'), 400],
    ['DEL and 0xff', Buffer.from(`sessionId=${sid}\x7f\xff.${signature}`, 'latin1'), 400],
    ['UTF-8', Buffer.from(`sessionId=${sid}😀.${signature}`, 'utf8'), 401],
    ['0xff', Buffer.from(`sessionId=${sid}\xff.${signature}`, 'latin1'), 401]
  ]
  for (const [what, cookie, status] of cases) {
    const res = await rawRequest(running.port, Buffer.concat([Buffer.from('GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: '), cookie, Buffer.from('\r\n\r\n')]), { tls: true })
    t.strictSame([res.status, sessionCookieOf(res)], [status, undefined], `${what}: ${status}, no session issued`)
  }
  await canary.check(t, 'malformed cookies')
})

t.test('tampered copies of the canary\'s cookie neither log it out nor take it over', async (t) => {
  const tampered = [sid, `${sid}.`, `${sid}.${flip(signature, 0)}`, `${sid}.${signature.slice(0, -1)}`, signWith('another secret of at least 32 characters', sid)]
  for (const bad of tampered) {
    for (const request of [h2Request, h1Request]) {
      const what = `${bad.slice(-8)} (${request === h2Request ? 'h2' : 'h1'})`
      const logout = await request(running.origin, '/logout', { method: 'POST', headers: { cookie: `sessionId=${bad}` } })
      t.strictSame([logout.status, sessionCookieOf(logout)], [204, undefined], `logout with ${what}`)
      const login = await request(running.origin, '/login', { method: 'POST', headers: { cookie: `sessionId=${bad}`, 'content-type': 'application/json' }, body: '{"user":"mallory"}' })
      const issued = sessionCookieOf(login) ?? ''
      t.strictSame([login.status, issued.startsWith(`sessionId=${sid}`)], [200, false], `login with ${what}: a new session id`)
    }
  }
  await canary.check(t, 'logout and login with tampered cookies')
})

t.test('replayed cookies: after logout and after a new login, on every worker', async (t) => {
  const loginAs = async (user: string, cookie?: string): Promise<string> => {
    const res = await h2Request(running.origin, '/login', { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie === undefined ? {} : { cookie }) }, body: JSON.stringify({ user }) })
    t.equal(res.status, 200, `${user} logs in`)
    return sessionCookieOf(res) as string
  }
  // read on both workers first, so a worker that kept a copy would show it
  const readTwice = async (cookie: string): Promise<void> => {
    for (const request of [h1Request, h1Request]) t.equal((await request(running.origin, '/me', { headers: { cookie } })).status, 200)
  }
  const mallory = await loginAs('mallory')
  await readTwice(mallory)
  t.equal((await h2Request(running.origin, '/logout', { method: 'POST', headers: { cookie: mallory } })).status, 204)
  for (let i = 0; i < 3; i++) await expectNoSession(t, running.origin, mallory, `replayed after logout, ${i + 1}`)
  const before = await loginAs('eve')
  await readTwice(before)
  const after = await loginAs('eve again', before)
  t.not(after, before, 'a new login regenerates the id')
  for (let i = 0; i < 3; i++) await expectNoSession(t, running.origin, before, `the id before the new login, ${i + 1}`)
  t.equal(JSON.parse((await h1Request(running.origin, '/me', { headers: { cookie: after } })).body).user, 'eve again')
  await canary.check(t, 'replayed cookies')
})

t.test('a burst: 200 concurrent streams with forged cookies on one HTTP/2 connection while the canary reads', async (t) => {
  const forged = (i: number): Record<string, string> => ({ cookie: i % 2 === 0 ? `sessionId=${sid}.${flip(signature, i % 43)}` : `sessionId=${randomBytes(24).toString('base64url')}.${signature}` })
  const [statuses] = await Promise.all([h2Burst(running.origin, '/me', 200, forged), canary.check(t, 'the burst, meanwhile')])
  t.strictSame(new Set(statuses), new Set([401]), 'every forged stream: 401')
  await canary.check(t, 'the burst')
})

t.test('after all of it: the same workers, both answered the canary', async (t) => {
  await expectSameWorkers(t, running, canary)
})
