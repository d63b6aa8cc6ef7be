import Router from 'find-my-way'
import type { Policy } from './policy.js'

/** What a route says about CORS: its policy, or `false` (`config.cors: false`). */
export type RoutePolicy = Policy | false

export interface RouterConfig {
  caseSensitive?: boolean
  ignoreTrailingSlash?: boolean
  ignoreDuplicateSlashes?: boolean
  maxParamLength?: number
  useSemicolonDelimiter?: boolean
  allowUnsafeRegex?: boolean
}

/* c8 ignore next -- the shadow router never dispatches: only find() is used */
const noop = (): void => {}

/**
 * A shadow of the app's router that maps (method, path) to the CORS policy of the route a real
 * request would hit, so that a preflight is answered with that route's policy. Built with the
 * app's own routing options. Routes that differ only by constraints (version, host) share the
 * policy of the first one declared: a preflight carries neither.
 */
export class RouteTable {
  readonly #router: Router.Instance<Router.HTTPVersion.V1>

  constructor (config: RouterConfig) {
    this.#router = Router({
      caseSensitive: config.caseSensitive,
      ignoreTrailingSlash: config.ignoreTrailingSlash,
      ignoreDuplicateSlashes: config.ignoreDuplicateSlashes,
      maxParamLength: config.maxParamLength,
      allowUnsafeRegex: config.allowUnsafeRegex,
      // find-my-way takes it; its types do not list it
      ...{ useSemicolonDelimiter: config.useSemicolonDelimiter }
    })
  }

  add (methods: string | string[], path: string, policy: RoutePolicy): void {
    for (const method of [methods].flat()) {
      try {
        this.#router.on(method as Router.HTTPMethod, path, noop, { policy })
      } catch {
        // declared already (another constraint, or the HEAD route Fastify adds): the first one stays
      }
    }
  }

  /** The policy for a request `method` on `url` (query ignored), or `null` when no route matches. */
  find (method: string, url: string): RoutePolicy | null {
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    // the app's router (same library, same options) has already accepted this path
    return (this.#router.find(method as Router.HTTPMethod, path)?.store as { policy: RoutePolicy } | undefined)?.policy ?? null
  }
}
