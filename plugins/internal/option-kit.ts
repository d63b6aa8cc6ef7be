/**
 * The checks every plugin's `normalizeOptions()` is made of, so that all plugins refuse a bad option
 * the same way: with their own coded error (`FST_FLEET_<PLUGIN>_INVALID_OPTION`), naming the option
 * and saying what was expected and what came. A missing option (`undefined`) takes its default.
 */

/** How a refused value is shown in an error message. */
export function show (value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'number' || typeof value === 'symbol' || typeof value === 'bigint') return String(value)
  return String(JSON.stringify(value))
}

/** Bounds of a number option. */
export interface NumberRule {
  min: number
  /** @default Infinity */
  max?: number
  /** Only whole numbers. @default false */
  integer?: boolean
}

/** The checks, bound to one plugin's error. */
export interface OptionKit {
  /** Refuses option `name` for `reason`. */
  invalid: (name: string, reason: string) => never
  /** `value` as an object (not null, not an array). */
  object: (name: string, value: unknown) => Record<string, unknown>
  /** Refuses the first key of `input` not in `keys`; `prefix` (e.g. `'cache.'`) goes before its name. */
  known: (input: Record<string, unknown>, keys: Iterable<string>, prefix?: string) => void
  boolean: (name: string, value: unknown, fallback: boolean) => boolean
  /** A finite number within the rule's bounds. */
  number: (name: string, value: unknown, fallback: number, rule: NumberRule) => number
  /** A string, non-empty unless `allowEmpty`. */
  string: (name: string, value: unknown, fallback: string, allowEmpty?: boolean) => string
  /** A function, or `fallback` (which may be `undefined` or `null`: no function) when absent; `what` describes it in the error. */
  fn: <F>(name: string, value: unknown, fallback: F, what?: string) => F
  /** One of `values`. */
  oneOf: <T>(name: string, value: unknown, fallback: T, values: readonly T[]) => T
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

function numberExpectation ({ min, max = Infinity, integer = false }: NumberRule): string {
  const kind = integer ? 'a whole number' : 'a number'
  // (beyond the safe integers, a bound is only there to keep numbers exact)
  return max >= Number.MAX_SAFE_INTEGER ? `${kind} ≥ ${min}` : `${kind} from ${min} to ${max}`
}

/** The checks of a plugin whose error is thrown by `fail(name, reason)`. */
export function optionKit (fail: (name: string, reason: string) => never): OptionKit {
  const invalid = (name: string, reason: string): never => fail(name, reason)
  return {
    invalid,
    object: (name, value) => isObject(value) ? value : invalid(name, `expected an object, got ${Array.isArray(value) ? 'an array' : show(value)}`),
    known: (input, keys, prefix = '') => {
      const allowed = new Set(keys)
      for (const key of Object.keys(input)) if (!allowed.has(key)) invalid(prefix + key, 'unknown option')
    },
    boolean: (name, value, fallback) => {
      const v = value === undefined ? fallback : value
      return typeof v === 'boolean' ? v : invalid(name, `expected a boolean, got ${show(v)}`)
    },
    number: (name, value, fallback, rule) => {
      const v = value === undefined ? fallback : value
      const { min, max = Infinity, integer = false } = rule
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
        invalid(name, `expected ${numberExpectation(rule)}, got ${show(v)}`)
      }
      return v as number
    },
    string: (name, value, fallback, allowEmpty = false) => {
      const v = value === undefined ? fallback : value
      if (typeof v !== 'string' || (!allowEmpty && v === '')) invalid(name, `expected a ${allowEmpty ? '' : 'non-empty '}string, got ${show(v)}`)
      return v as string
    },
    fn: (name, value, fallback, what = 'a function') => {
      if (value === undefined) return fallback
      return typeof value === 'function' ? value as typeof fallback : invalid(name, `expected ${what}, got ${show(value)}`)
    },
    oneOf: (name, value, fallback, values) => {
      const v = value === undefined ? fallback : value
      return values.includes(v as never) ? v as typeof fallback : invalid(name, `expected one of ${values.map(show).join(', ')}, got ${show(v)}`)
    }
  }
}
