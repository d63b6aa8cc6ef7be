import type { StoreHealth, StoreStats } from '../store-health.js'
import type { SessionStore } from '../contract.js'
import { isListing, rejection, recordingLogger, UNSUPPORTED, viaCallback, type CaseSpec, type Settings } from './harness.js'

/** A store of fastify-fleet: with `stats()` and `health()`. */
type FleetStore = SessionStore & { stats: () => StoreStats, health: () => Promise<StoreHealth> }

/**
 * The cases of what fastify-fleet's stores add to the contract (coded errors, corrupt data, closed
 * stores; skipped with `fleet: false`), and of backends that hang or fail (with `hangingStore` and
 * `failingStore`).
 */
export function faultCases (settings: Settings): CaseSpec[] {
  const fleetOnly = settings.fleet ? undefined : 'checks what fastify-fleet adds to the contract (option fleet)'
  return [
    {
      name: 'corrupt stored data reads as no session and is logged',
      skip: fleetOnly,
      body: async (h, assert) => {
        const logger = recordingLogger()
        // writes `raw` as it is, so the backend holds what a broken writer could have left
        const serializer = {
          stringify: (s: Record<string, unknown>) => typeof s.raw === 'string' ? s.raw : JSON.stringify(s),
          parse: (text: string) => JSON.parse(text)
        }
        const store = await h.store({ serializer, logger })
        const corrupt = ['{not json', '[1,2]', '"text"', 'null', '42', '{"cookie":"x"}', '{"cookie":[]}', '{"cookie":{"expires":"soon"}}']
        const sids: string[] = []
        for (const raw of corrupt) {
          const sid = h.sid('corrupt')
          // a backend that keeps JSON (PostgresStore's json column) may refuse text that is not JSON
          const refused = await store.set(sid, { raw }).then(() => null, (err: { code?: unknown }) => err)
          if (refused === null || !raw.startsWith('{not')) sids.push(sid)
          else assert.equal(refused.code, 'FST_FLEET_SESSION_BACKEND', `${raw}: refused by the backend with a coded error`)
          assert.equal(await store.get(sid), null, `${raw}: no session`)
        }
        assert.deepEqual(logger.lines.map((l) => [l.level, (l.obj.err as { code?: unknown }).code]), sids.map(() => ['warn', 'FST_FLEET_SESSION_CORRUPT']), 'one warning for each one stored')
        const logged = JSON.stringify(logger.lines.map((l) => [l.msg, l.obj.session]))
        assert.ok(sids.every((sid) => !logged.includes(sid)), 'the logs do not hold session ids')
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie(), user: 'ada' })
        assert.equal((await store.get(sid))?.user, 'ada', 'the store still works')
      }
    },
    {
      name: 'invalid ids and sessions are refused with a coded error, never a synchronous throw',
      skip: fleetOnly,
      body: async (h, assert) => {
        const store = await h.store()
        const session = { cookie: h.cookie() }
        for (const [label, sid] of [['an empty id', ''], ['a number', 42], ['undefined', undefined]] as Array<[string, string]>) {
          await rejection(assert, settings, () => store.get(sid), 'FST_FLEET_SESSION_INVALID_ID', `get with ${label}`)
          await rejection(assert, settings, () => store.set(sid, session), 'FST_FLEET_SESSION_INVALID_ID', `set with ${label}`)
          await rejection(assert, settings, () => store.destroy(sid), 'FST_FLEET_SESSION_INVALID_ID', `destroy with ${label}`)
          await rejection(assert, settings, () => store.touch(sid, session), 'FST_FLEET_SESSION_INVALID_ID', `touch with ${label}`)
        }
        for (const bad of [null, 'text', 7]) {
          await rejection(assert, settings, () => store.set(h.sid(), bad as never), 'FST_FLEET_SESSION_INVALID_SESSION', `set of ${String(bad)}`)
          await rejection(assert, settings, () => store.touch(h.sid(), bad as never), 'FST_FLEET_SESSION_INVALID_SESSION', `touch of ${String(bad)}`)
        }
        const { calls } = await viaCallback((cb) => store.get('', cb))
        assert.equal((calls[0]?.[0] as { code?: unknown })?.code, 'FST_FLEET_SESSION_INVALID_ID', 'the callback gets the error')
      }
    },
    {
      name: 'a closed store refuses calls; close is idempotent',
      skip: fleetOnly,
      body: async (h, assert) => {
        const store = await h.store()
        const sid = h.sid()
        await store.set(sid, { cookie: h.cookie() })
        await store.close()
        await store.close()
        for (const [label, call] of Object.entries({
          get: () => store.get(sid),
          set: () => store.set(sid, { cookie: h.cookie() }),
          destroy: () => store.destroy(sid),
          touch: () => store.touch(sid, { cookie: h.cookie() }),
          length: () => store.length(),
          ids: () => store.ids(),
          clear: () => store.clear()
        })) {
          await rejection(assert, settings, call, 'FST_FLEET_SESSION_CLOSED', label)
        }
      }
    },
    faultCase(settings, 'hanging', 'a backend that does not answer fails with a timeout', 'FST_FLEET_SESSION_TIMEOUT'),
    faultCase(settings, 'failing', 'a failing backend fails every call with a coded error, never a crash', 'FST_FLEET_SESSION_BACKEND'),
    breakerCase(settings)
  ]
}

function breakerCase (settings: Settings): CaseSpec {
  const make = settings.failingStore
  return {
    name: 'a failing backend opens the circuit breaker: calls are refused at once, and a probe goes through after the cooldown',
    skip: !settings.fleet ? 'checks what fastify-fleet adds to the contract (option fleet)' : make === undefined ? 'needs the failingStore option' : undefined,
    body: async (h, assert) => {
      const logger = recordingLogger()
      const store = await h.store({ timeout: 50, logger, breaker: { failures: 3, window: 10, cooldown: 5 } }, make) as FleetStore
      const sid = h.sid()
      for (let i = 0; i < 3; i++) await rejection(assert, settings, () => store.get(sid), 'FST_FLEET_SESSION_BACKEND', `failure ${i + 1}`)
      const started = performance.now()
      await rejection(assert, settings, () => store.set(sid, { cookie: h.cookie() }), 'FST_FLEET_SESSION_UNAVAILABLE', 'then refused')
      assert.ok(performance.now() - started < 20, 'at once')
      assert.deepEqual(await store.health(), {
        ok: false,
        breaker: 'open',
        error: { code: 'FST_FLEET_SESSION_UNAVAILABLE', message: 'fastify-fleet/session: health refused at once: the backend failed 3 times within 10 s (circuit breaker open)' }
      }, 'health() says so, without a call')
      h.clock.advance(5000)
      await rejection(assert, settings, () => store.get(sid), 'FST_FLEET_SESSION_BACKEND', 'after the cooldown, one probe reaches the backend')
      await rejection(assert, settings, () => store.get(sid), 'FST_FLEET_SESSION_UNAVAILABLE', 'it failed: open again')
      const stats = store.stats()
      assert.deepEqual([stats.errors, stats.refused, stats.breakerOpened, stats.breaker], [4, 3, 2, 'open'], 'stats() counts it all')
      assert.deepEqual(logger.lines.map((l) => [l.level, (l.obj.err as { code?: string }).code, l.obj.breaker]), [
        ['error', 'FST_FLEET_SESSION_BREAKER', 'open'],
        ['warn', 'FST_FLEET_SESSION_BREAKER', 'half-open'],
        ['error', 'FST_FLEET_SESSION_BREAKER', 'open']
      ], 'each change of state logged')
    }
  }
}

function faultCase (settings: Settings, kind: 'hanging' | 'failing', name: string, code: string): CaseSpec {
  const make = kind === 'hanging' ? settings.hangingStore : settings.failingStore
  const timeout = 50
  return {
    name,
    skip: make === undefined ? `needs the ${kind}Store option` : undefined,
    body: async (h, assert) => {
      const store = await h.store({ timeout, breaker: false }, make)
      const sid = h.sid()
      const session = { cookie: h.cookie(), user: 'ada' }
      for (const [label, call] of Object.entries({
        get: () => store.get(sid),
        set: () => store.set(sid, session),
        destroy: () => store.destroy(sid),
        touch: () => store.touch(sid, session),
        length: () => store.length(),
        ids: () => store.ids(),
        clear: () => store.clear()
      })) {
        // a store that cannot list its sessions refuses length, ids and clear before any backend call
        const refused = !settings.listing && isListing(label)
        const started = performance.now()
        await rejection(assert, settings, call, refused ? UNSUPPORTED : code, label)
        const took = performance.now() - started
        assert.ok(took < (refused ? timeout : 1000), `${label}: fails ${refused ? 'at once' : 'within a second'} (took ${Math.round(took)} ms)`)
        if (kind === 'hanging' && settings.fleet && !refused) assert.ok(took >= timeout - 5, `${label}: waits for the timeout (${timeout} ms)`)
      }
      const { calls } = await viaCallback((cb) => store.get(sid, cb))
      assert.ok(calls[0]?.[0] instanceof Error, 'the callback gets the error')
    }
  }
}
