/**
 * The conformance suite of `fastify-fleet/session`: every store of ours passes it, and a store of
 * your own can run it. It depends on no test runner: `storeConformance()` returns named async cases
 * that take a small assertion object; `forTap()` and `forNodeTest()` register them with tap or
 * `node:test` (any runner works through `Assert`).
 *
 * ```ts
 * import { test } from 'node:test'
 * import { forNodeTest, storeConformance } from 'fastify-fleet/session/conformance'
 * forNodeTest(test, storeConformance((ctx) => new MyStore({ now: ctx.now }), { fleet: false }))
 * ```
 *
 * The cases through a Fastify app load `fastify`, `@fastify/cookie` and `@fastify/session` when
 * they run (they must be installed) and replace `Date.now` with the suite's fake clock while they
 * run, since `@fastify/session` reads it for cookie expiry. Cases run one after the other.
 */
import assertStrict from 'node:assert/strict'
import { appCases } from './conformance/app-cases.js'
import { directCases } from './conformance/direct-cases.js'
import { faultCases } from './conformance/fault-cases.js'
import { Harness, type Assert, type Settings, type StoreFactory } from './conformance/harness.js'

export type { Assert, StoreContext, StoreFactory } from './conformance/harness.js'
export type { SessionStore } from './contract.js'

/** Options of `storeConformance()`. */
export interface ConformanceOptions {
  /**
   * Also check what fastify-fleet's stores add to the contract: `FST_FLEET_SESSION_*` error codes,
   * the exact JSON handling of odd values, corrupt data, closed stores, and the `serializer`,
   * `logger` and `timeout` context options. `false` for a store of your own.
   * @default true
   */
  fleet?: boolean
  /**
   * Seconds a session whose cookie has no expiry lives in the store under test (passed as `ttl`).
   * @default 86400
   */
  ttl?: number
  /**
   * Size of the large payload case, in bytes.
   * @default 1048576
   */
  largePayloadBytes?: number
  /**
   * Builds a store whose backend never answers (e.g. a client of a server that accepts connections
   * and says nothing), honouring `ctx.timeout`: enables the timeout case.
   * @default undefined (the case is skipped)
   */
  hangingStore?: StoreFactory
  /**
   * Builds a store whose backend fails every call (e.g. a client of a closed port): enables the
   * error cases.
   * @default undefined (the cases are skipped)
   */
  failingStore?: StoreFactory
  /**
   * Run the cases through a Fastify app too.
   * @default true
   */
  app?: boolean
  /**
   * Whether the store lists its sessions (`length()`, `ids()`, `clear()`). `false` for a store over
   * a backend that cannot (MemcachedStore): the listing case then checks that the three reject
   * (with `FST_FLEET_SESSION_UNSUPPORTED` when `fleet`) and leave the sessions alone, the hanging
   * and failing cases expect that same refusal from them, at once, and the app case that counts
   * the stored sessions is skipped.
   * @default true
   */
  listing?: boolean
}

/** One case of the suite. */
export interface ConformanceCase {
  name: string
  /** Why the case does not apply to this store; runners report it as skipped. */
  skip?: string
  run: (assert: Assert) => Promise<void>
}

/**
 * The cases for the stores `makeStore` builds: a fresh store per case (closed when it ends),
 * given the suite's fake clock in `ctx.now`.
 */
export function storeConformance (makeStore: StoreFactory, options: ConformanceOptions = {}): ConformanceCase[] {
  const settings: Settings = {
    fleet: options.fleet ?? true,
    ttl: options.ttl ?? 86400,
    largePayloadBytes: options.largePayloadBytes ?? 1024 * 1024,
    hangingStore: options.hangingStore,
    failingStore: options.failingStore,
    listing: options.listing ?? true
  }
  const specs = [...directCases(settings), ...faultCases(settings), ...(options.app === false ? [] : appCases(settings))]
  return specs.map((spec) => ({
    name: spec.name,
    ...(spec.skip === undefined ? {} : { skip: spec.skip }),
    run: async (assert) => {
      const h = new Harness(makeStore, settings)
      try {
        await spec.body(h, assert)
      } finally {
        await h.close()
      }
    }
  }))
}

/** The part of a tap `Test` the adapter uses. */
export interface TapLike {
  test: (name: string, extra: { skip?: string }, fn: (t: TapAssertions) => Promise<void>) => unknown
}

/** tap's assertions the adapter maps `Assert` onto. */
export interface TapAssertions {
  equal: (found: any, wanted: any, message: string) => unknown
  strictSame: (found: any, wanted: any, message: string) => unknown
  ok: (value: any, message: string) => unknown
}

/** Registers the cases as subtests of a tap test: `forTap(t, storeConformance(...))`. */
export function forTap (t: TapLike, cases: ConformanceCase[]): void {
  for (const c of cases) {
    t.test(c.name, c.skip === undefined ? {} : { skip: c.skip }, async (tt) => {
      await c.run({
        equal: (actual, expected, message) => tt.equal(actual, expected, message as string),
        deepEqual: (actual, expected, message) => tt.strictSame(actual, expected, message as string),
        ok: (value, message) => tt.ok(value, message as string)
      })
    })
  }
}

/** `node:test`'s `test` function (or `it`), as far as the adapter uses it. */
export type NodeTestLike = (name: string, options: { skip?: string }, fn: () => Promise<void>) => unknown

/** Registers the cases as `node:test` tests: `forNodeTest(test, storeConformance(...))`. */
export function forNodeTest (test: NodeTestLike, cases: ConformanceCase[]): void {
  const assert: Assert = {
    equal: (actual, expected, message) => assertStrict.equal(actual, expected, message),
    deepEqual: (actual, expected, message) => assertStrict.deepEqual(actual, expected, message),
    ok: (value, message) => assertStrict.ok(value, message)
  }
  for (const c of cases) {
    test(c.name, c.skip === undefined ? {} : { skip: c.skip }, () => c.run(assert))
  }
}
