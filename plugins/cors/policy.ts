import type { FastifyRequest } from 'fastify'
import { canonicalOrigin, listAllows } from './origin.js'
import { REFUSED, type Decision, type OriginDecisionCache } from './origin-cache.js'
import type { OriginAnswer, OriginFunction, PolicySpec } from './options.js'

/** A policy compiled once: header strings built, origin check ready. */
export interface Policy {
  id: number
  spec: PolicySpec
  /** The answer does not depend on the Origin (`'*'`): no `Vary: Origin`. */
  anyOrigin: boolean
  /** The origin decision for a request; a Promise only for an uncached origin function. */
  decide: (origin: string, request: FastifyRequest) => Decision | Promise<Decision>
  /** Precomputed values; `null` when the header is not sent. */
  allowMethods: string
  allowHeaders: string | null
  exposeHeaders: string | null
  maxAge: string | null
}

const ANY: Decision = Object.freeze({ allow: true, value: '*' })
const functionIds = new WeakMap<OriginFunction, number>()
let nextFunctionId = 0
let nextPolicyId = 0

function interpret (answer: OriginAnswer, origin: string, credentials: boolean): Decision {
  if (answer === true) return { allow: true, value: origin }
  if (answer === '*' && !credentials) return ANY
  if (typeof answer === 'string' && answer === origin) return { allow: true, value: origin }
  return REFUSED
}

/** Compiles a checked policy; origin-function answers go through `cache`. */
export function compilePolicy (spec: PolicySpec, cache: OriginDecisionCache, cacheKey: ((request: FastifyRequest) => string) | null): Policy {
  let decide: Policy['decide']
  const origin = spec.origin
  if (origin.kind === 'any') decide = () => ANY
  else if (origin.kind === 'none') decide = () => REFUSED
  // reflect any well-formed origin ('null' too: it is what sandboxed and file: pages send)
  else if (origin.kind === 'reflect') decide = (o) => o === 'null' || canonicalOrigin(o) === o ? { allow: true, value: o } : REFUSED
  else if (origin.kind === 'list') {
    const list = origin.list
    decide = (o) => listAllows(list, o) ? { allow: true, value: o } : REFUSED
  } else {
    const fn = origin.fn
    let fnId = functionIds.get(fn)
    if (fnId === undefined) functionIds.set(fn, fnId = nextFunctionId++)
    const credentials = spec.credentials
    decide = (o, request) => {
      // a malformed Origin never reaches the function (nor fills its cache)
      if (o !== 'null' && canonicalOrigin(o) !== o) return REFUSED
      let key = `${o}\0${fnId}`
      if (cacheKey !== null) {
        try {
          key += '\0' + cacheKey(request)
        } catch {
          return REFUSED
        }
      }
      return cache.decide(key, () => {
        const answer = fn(o, request)
        return answer instanceof Promise
          ? answer.then((a) => interpret(a, o, credentials))
          : interpret(answer, o, credentials)
      })
    }
  }
  return {
    id: nextPolicyId++,
    spec,
    anyOrigin: origin.kind === 'any',
    decide,
    allowMethods: spec.methods === '*' ? '*' : spec.methods.join(', '),
    allowHeaders: spec.allowedHeaders === 'reflect' ? null : spec.allowedHeaders === '*' ? '*' : spec.allowedHeaders.join(', '),
    exposeHeaders: spec.exposedHeaders === '*' ? '*' : spec.exposedHeaders.length === 0 ? null : spec.exposedHeaders.join(', '),
    maxAge: spec.maxAge === null ? null : String(spec.maxAge)
  }
}
