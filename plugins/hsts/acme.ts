import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { FST_FLEET_HSTS_INVALID_OPTION } from './errors.js'

/**
 * Where ACME HTTP-01 answers come from: a folder with one file per token (what certbot's
 * `--webroot` writes under `.well-known/acme-challenge/`), or a function from token to key
 * authorization (`null`/`undefined` when the token is unknown).
 */
export type AcmeChallenge = string | ((token: string) => string | null | undefined | Promise<string | null | undefined>)

/** An ACME answer: 200 with the body, 404, 405 for a method other than GET/HEAD, 500 when the lookup failed. */
export interface AcmeAnswer {
  status: 200 | 404 | 405 | 500
  body: string
  /** Why the lookup failed (status 500), for the log. */
  error?: unknown
}

export type AcmeResponder = (method: string, path: string) => Promise<AcmeAnswer> | null

export const ACME_PREFIX = '/.well-known/acme-challenge/'
// tokens are base64url (RFC 8555 §8.3): this also rules out `..`, `/` and `%2f`
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/

/** Compiles `acmeChallenge`; `where` names the option in errors. */
export function normalizeAcme (input: unknown, where: string): AcmeResponder {
  let lookup: (token: string) => Promise<string | null | undefined>
  if (typeof input === 'string' && input.length > 0) {
    const dir = resolve(input)
    lookup = async (token) => {
      try {
        return await readFile(join(dir, token), 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw err
      }
    }
  } else if (typeof input === 'function') {
    lookup = async (token) => await (input as (token: string) => unknown)(token) as string | null | undefined
  } else {
    throw new FST_FLEET_HSTS_INVALID_OPTION(where, 'expected a folder path or a function (token) => key authorization')
  }
  return (method, path) => {
    if (!path.startsWith(ACME_PREFIX)) return null
    return answer(method, path.slice(ACME_PREFIX.length), lookup)
  }
}

async function answer (method: string, rest: string, lookup: (token: string) => Promise<string | null | undefined>): Promise<AcmeAnswer> {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'Method Not Allowed\n' }
  const query = rest.indexOf('?')
  const token = query === -1 ? rest : rest.slice(0, query)
  if (!TOKEN.test(token)) return { status: 404, body: 'Not Found\n' }
  try {
    const body = await lookup(token)
    if (typeof body !== 'string') return { status: 404, body: 'Not Found\n' }
    return { status: 200, body: body.trim() }
  } catch (error) {
    return { status: 500, body: 'Internal Server Error\n', error }
  }
}
