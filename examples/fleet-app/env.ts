import envSchema from 'env-schema'

/** A setting the demo cannot run with. */
export class ConfigError extends Error {
  code = 'FLEET_APP_CONFIG'
  constructor (variable: string, reason: string) {
    super(`${variable}: ${reason}`)
    this.name = 'ConfigError'
  }
}

const digits = (text: string, min: number, max: number): boolean => /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max

/** Checks a JSON Schema keyword cannot say for a string, by name; `expected` ends "expected …" in the error. */
const FORMATS = {
  port: { expected: 'a port number', valid: (text: string) => digits(text, 1, 65535) },
  'port-or-off': { expected: 'a port number (0 turns it off)', valid: (text: string) => digits(text, 0, 65535) },
  count: { expected: 'a whole number from 1 to 1024', valid: (text: string) => digits(text, 1, 1024) },
  milliseconds: { expected: 'a whole number of milliseconds ≥ 1', valid: (text: string) => digits(text, 1, Number.MAX_SAFE_INTEGER) },
  'master-name': { expected: 'a master name such as mymaster (no spaces)', valid: (text: string) => /^\S+$/.test(text) }
}

/**
 * One environment variable: always text (digits stay digits: no "0x50" or " 80 " read as 80), with a
 * default, and at most one check: a named format, a list of values, or a minimum length.
 */
export interface Variable {
  type: 'string'
  default?: string
  format?: keyof typeof FORMATS
  enum?: readonly string[]
  minLength?: number
}

type TextOf<T> = T extends { enum: ReadonlyArray<infer E> } ? E : string

/** The text of each variable (one of its `enum`'s), `undefined` when unset and the schema gives no default. */
export type EnvOf<V extends Record<string, Variable>> = {
  [K in keyof V]: V[K] extends { default: string } ? TextOf<V[K]> : TextOf<V[K]> | undefined
}

interface SchemaError { instancePath: string, keyword: string, params: Record<string, any> }

function reason (error: SchemaError, given: string): string {
  if (error.keyword === 'enum') return `expected one of ${(error.params.allowedValues as string[]).join(', ')}, got "${given}"`
  if (error.keyword === 'minLength') return `must be at least ${error.params.limit as number} characters long`
  return `expected ${FORMATS[error.params.format as keyof typeof FORMATS].expected}, got "${given}"`
}

/**
 * Reads `variables` from `env` with env-schema: an empty variable is an unset one (its default), and the
 * first variable that fails its check is a `ConfigError` naming it.
 */
export function readEnv<V extends Record<string, Variable>> (variables: V, env: NodeJS.ProcessEnv): EnvOf<V> {
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''))
  try {
    return envSchema<EnvOf<V>>({
      schema: { type: 'object', properties: variables },
      data: given,
      env: false,
      ajv: {
        customOptions (ajv) {
          for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format.valid)
          return ajv
        }
      }
    })
  } catch (err) {
    const error = (err as { errors: [SchemaError] }).errors[0]
    const name = error.instancePath.slice(1)
    throw new ConfigError(name, reason(error, given[name] as string))
  }
}
