import type { SessionRecord } from '../record.js'
import { rejection, UNSUPPORTED, viaCallback, type CaseSpec, type Settings } from './harness.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** What JSON makes of a value: how stores give sessions back. */
export const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const expiresOf = (session: SessionRecord | null): number => Date.parse(String(session?.cookie?.expires))

/** The cases that call the store's methods directly: the contract. */
export function directCases (settings: Settings): CaseSpec[] {
  return [
    {
      name: 'get of an unknown id answers null',
      body: async (h, assert) => {
        const store = await h.store()
        assert.equal(await store.get(h.sid('unknown')), null, 'get of an unknown id')
      }
    },
    {
      name: 'set then get returns a copy, as JSON, never the object given',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        const session = { cookie: h.cookie(), user: { id: 7, name: 'ada', roles: ['admin'] }, views: 3, admin: true, note: null }
        await store.set(sid, session)
        const expected = json(session)
        session.user.roles.push('root')
        session.views = 4
        const got = await store.get(sid)
        assert.deepEqual(got, expected, 'get returns what was set, as JSON, untouched by later changes to the object given')
        ;(got as { user: { name: string } }).user.name = 'eve'
        assert.deepEqual(await store.get(sid), expected, 'changing what get returned changes nothing stored')
      }
    },
    {
      name: 'callback style: each method calls back once and returns nothing',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        const session = { cookie: h.cookie(), user: 'ada' }
        const check = async (label: string, start: (cb: (...args: unknown[]) => void) => unknown, value?: unknown): Promise<void> => {
          const { returned, calls } = await viaCallback(start)
          assert.equal(returned, undefined, `${label} with a callback returns nothing`)
          assert.equal(calls.length, 1, `${label} calls back once`)
          assert.equal(calls[0]?.[0] ?? null, null, `${label} calls back without an error`)
          if (value !== undefined) assert.deepEqual(calls[0]?.[1], value, `${label} calls back with the session`)
        }
        await check('set', (cb) => store.set(sid, session, cb))
        await check('get', (cb) => store.get(sid, cb), json(session))
        await check('touch', (cb) => store.touch(sid, session, cb))
        await check('destroy', (cb) => store.destroy(sid, cb))
        await check('get after destroy', (cb) => store.get(sid, cb), null)
      }
    },
    {
      name: 'destroy removes the session; destroying an unknown id succeeds',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie(), user: 'ada' })
        await store.destroy(sid)
        assert.equal(await store.get(sid), null, 'gone after destroy')
        await store.destroy(sid)
        await store.destroy(h.sid('unknown'))
        assert.ok(true, 'destroying a missing id resolves')
      }
    },
    {
      name: 'a session expires at its cookie expiry (fake clock)',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie(MINUTE), user: 'ada' })
        h.clock.advance(MINUTE - 1)
        assert.equal((await store.get(sid))?.user, 'ada', 'alive 1 ms before its expiry')
        h.clock.advance(1)
        assert.equal(await store.get(sid), null, 'never returned once expired')
      }
    },
    {
      name: 'a session whose cookie has no expiry lives ttl seconds',
      body: async (h, assert) => {
        const store = await h.store()
        const browserCookie = h.sid('browser-cookie')
        const noCookie = h.sid('no-cookie')
        await store.set(browserCookie, { cookie: h.cookie(null), user: 'ada' })
        await store.set(noCookie, { user: 'bob' })
        h.clock.advance(settings.ttl * 1000 - 1)
        assert.deepEqual(await store.get(browserCookie), json({ cookie: h.cookie(null), user: 'ada' }), 'cookie without expiry: alive until ttl')
        assert.deepEqual(await store.get(noCookie), { user: 'bob' }, 'no cookie at all: alive until ttl')
        h.clock.advance(1)
        assert.equal(await store.get(browserCookie), null, 'cookie without expiry: gone after ttl')
        assert.equal(await store.get(noCookie), null, 'no cookie: gone after ttl')
      }
    },
    {
      name: 'set with an expired cookie removes the session',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie(), user: 'ada' })
        await store.set(sid, { cookie: { ...h.cookie(), expires: new Date(h.clock.now() - 1) }, user: 'ada' })
        assert.equal(await store.get(sid), null, 'gone')
      }
    },
    {
      name: 'touch moves the expiry and leaves the data alone',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie(HOUR), user: 'ada' })
        await store.get(sid)
        h.clock.advance(50 * MINUTE)
        await store.touch(sid, { cookie: h.cookie(HOUR), user: 'eve' })
        h.clock.advance(20 * MINUTE)
        const got = await store.get(sid)
        assert.equal(got?.user, 'ada', 'alive past its first expiry, with the data it had')
        assert.ok(expiresOf(got) > h.clock.now(), 'its cookie does not say it expired')
        h.clock.advance(41 * MINUTE)
        assert.equal(await store.get(sid), null, 'gone after the touched expiry')
        const unknown = h.sid('unknown')
        await store.touch(unknown, { cookie: h.cookie(), user: 'ada' })
        assert.equal(await store.get(unknown), null, 'touch does not create a session')
      }
    },
    {
      name: 'an unchanged session set again lives until its new expiry (rolling)',
      body: async (h, assert) => {
        const store = await h.store()
        // what @fastify/session does with `rolling`: the data it read, the cookie's expiry moved on
        const rolled = (got: SessionRecord | null): SessionRecord =>
          ({ ...got, cookie: { ...got?.cookie, expires: new Date(h.clock.now() + HOUR), originalExpires: got?.cookie?.expires } })
        const far = h.sid('far')
        const near = h.sid('near')
        await store.set(far, { cookie: h.cookie(HOUR), user: 'ada' })
        await store.set(near, { cookie: h.cookie(HOUR), user: 'bob' })
        const nearExpiry = expiresOf(await store.get(near))
        h.clock.advance(1000)
        await store.set(near, rolled(await store.get(near)))
        h.clock.advance(30 * MINUTE - 1000)
        await store.set(far, rolled(await store.get(far)))
        h.clock.advance(nearExpiry - 1 - h.clock.now())
        assert.equal((await store.get(near))?.user, 'bob', 'set again a second later: alive at least until its first expiry')
        h.clock.advance(MINUTE + 1)
        const got = await store.get(far)
        assert.equal(got?.user, 'ada', 'alive past its first expiry')
        assert.ok(expiresOf(got) > h.clock.now(), 'its cookie does not say it expired')
        h.clock.advance(30 * MINUTE)
        assert.equal(await store.get(far), null, 'gone after its new expiry')
      }
    },
    {
      name: 'a changed session is written: its data, its cookie, and back to an earlier value',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie(), user: 'ada', views: 1 })
        let got = await store.get(sid)
        await store.set(sid, { ...got, views: 2 })
        assert.equal((got = await store.get(sid))?.views, 2, 'a changed field is written')
        await store.set(sid, { ...got, cookie: { ...got?.cookie, path: '/app' } })
        assert.equal((got = await store.get(sid))?.cookie?.path, '/app', 'a changed cookie field is written')
        await store.set(sid, { ...got, views: 3 })
        await store.set(sid, { ...got, views: 2 })
        assert.equal((await store.get(sid))?.views, 2, 'back to the value read, after a write in between')
        got = await store.get(sid)
        await store.destroy(sid)
        await store.set(sid, got as SessionRecord)
        assert.equal((await store.get(sid))?.views, 2, 'the session read, destroyed, then set again is stored')
      }
    },
    settings.listing ? listingCase() : refusedListingCase(settings),
    {
      name: `a ${settings.largePayloadBytes}-byte payload round-trips`,
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        const blob = '0123456789abcdef'.repeat(Math.ceil(settings.largePayloadBytes / 16)).slice(0, settings.largePayloadBytes)
        await store.set(sid, { cookie: h.cookie(), blob })
        const got = await store.get(sid)
        assert.equal((got?.blob as string | undefined)?.length, blob.length, 'same length')
        assert.ok(got?.blob === blob, 'same content')
      }
    },
    {
      name: 'unicode round-trips, in values and keys',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        const text = 'é ü ß 漢字 かな 한국어 עברית العربية 😀 👩‍👩‍👧 e\u0301 \u0000 \u2028\u2029 \ud800 \udfff \t\n" \\ \u{10ffff}'
        const session = { cookie: h.cookie(), text, [text]: 'key', '😀': ['🙂', { ключ: 'значение' }] }
        await store.set(sid, session)
        assert.deepEqual(await store.get(sid), json(session), 'exactly what was set')
      }
    },
    {
      name: 'values JSON cannot hold',
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        const cookie = h.cookie()
        const when = new Date(h.clock.now())
        await store.set(sid, {
          cookie, when, gone: undefined, fn: Math.max, nan: NaN, inf: -Infinity, list: [undefined, 1], nested: { map: new Map([['a', 1]]), set: new Set([1]) }
        })
        const got = await store.get(sid)
        if (settings.fleet) {
          assert.deepEqual(got, { cookie: json(cookie), when: when.toISOString(), nan: null, inf: null, list: [null, 1], nested: { map: {}, set: {} } },
            'JSON: a Date becomes its ISO string, NaN and Infinity null, Map and Set {}; undefined and functions are left out')
        } else {
          assert.equal(new Date(got?.when as string).getTime(), when.getTime(), 'a Date comes back as the same instant')
        }
        const loop: Record<string, unknown> = { cookie }
        loop.self = loop
        if (settings.fleet) {
          await rejection(assert, settings, () => store.set(sid, { cookie, big: 10n }), 'FST_FLEET_SESSION_UNSERIALIZABLE', 'a BigInt')
          await rejection(assert, settings, () => store.set(sid, loop), 'FST_FLEET_SESSION_UNSERIALIZABLE', 'a circular reference')
          assert.equal((await store.get(sid))?.when, when.toISOString(), 'a refused set leaves the stored session as it was')
        } else {
          await store.set(sid, { cookie, big: 10n }).catch(() => {})
          await store.set(sid, loop).catch(() => {})
          assert.equal(typeof await store.get(sid), 'object', 'a BigInt and a cycle neither throw nor break the store')
        }
      }
    },
    {
      name: 'concurrent sets all land, and sets of one id leave one whole session',
      body: async (h, assert) => {
        const store = await h.store()
        const sids = Array.from({ length: 50 }, (_, i) => h.sid(`many${i}`))
        await Promise.all(sids.map((sid, n) => store.set(sid, { cookie: h.cookie(), n })))
        const got = await Promise.all(sids.map((sid) => store.get(sid)))
        assert.deepEqual(got.map((s) => s?.n), sids.map((_, n) => n), 'every session as set')
        const one = h.sid('one')
        await Promise.all(Array.from({ length: 20 }, (_, n) => store.set(one, { cookie: h.cookie(), n, pad: 'x'.repeat(n * 1000) })))
        const last = await store.get(one)
        assert.ok(Number.isInteger(last?.n) && last?.pad === 'x'.repeat((last?.n as number) * 1000), 'one of the writes, whole')
        await Promise.all([store.get(one), store.set(one, { cookie: h.cookie(), n: 99 }), store.destroy(one), store.get(one)])
        assert.ok(true, 'get, set and destroy of one id at once')
      }
    },
  ]
}

/** What `length`, `ids` and `clear` answer, on a store that lists its sessions. */
function listingCase (): CaseSpec {
  return {
    name: 'length, ids and clear see the live sessions of this store',
    body: async (h, assert) => {
      const store = await h.store()
      await store.clear()
      assert.equal(await store.length(), 0, 'empty after clear')
      const ids = [h.sid('a'), h.sid('b'), h.sid('c')]
      for (const sid of ids) await store.set(sid, { cookie: h.cookie(), user: sid })
      await store.set(h.sid('expired'), { cookie: { ...h.cookie(), expires: new Date(h.clock.now() - 1) } })
      assert.equal(await store.length(), 3, 'length')
      assert.deepEqual((await store.ids()).sort(), [...ids].sort(), 'ids')
      await store.destroy(ids[0] as string)
      assert.equal(await store.length(), 2, 'length after a destroy')
      await store.clear()
      assert.equal(await store.length(), 0, 'length after clear')
      assert.deepEqual(await store.ids(), [], 'ids after clear')
      assert.equal(await store.get(ids[1] as string), null, 'get after clear')
    }
  }
}

/** `length`, `ids` and `clear` refused, on a store that cannot list its sessions (option `listing: false`). */
function refusedListingCase (settings: Settings): CaseSpec {
  return {
    name: 'length, ids and clear are refused, and leave the sessions alone (option listing)',
    body: async (h, assert) => {
      const store = await h.store()
      const sid = h.sid()
      await store.set(sid, { cookie: h.cookie(), user: 'ada' })
      await rejection(assert, settings, () => store.length(), UNSUPPORTED, 'length')
      await rejection(assert, settings, () => store.ids(), UNSUPPORTED, 'ids')
      await rejection(assert, settings, () => store.clear(), UNSUPPORTED, 'clear')
      assert.equal((await store.get(sid))?.user, 'ada', 'the session is still there')
    }
  }
}
