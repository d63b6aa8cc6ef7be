// What fastify-fleet's stores do to spare @fastify/session an HMAC on each read, for the bench's
// floor stores: keep the signed cookie value of a session `set` was given (under the Session's own
// symbols, found once by their descriptions) and put it back on the object `get` answers.

let idKey: symbol | undefined
let signedKey: symbol | undefined

/** The signed cookie value of `live` (a Session) when it belongs to `sid`, else `undefined`. */
export function signedValueOf (sid: string, live: object): unknown {
  const session = live as Record<string | symbol, unknown>
  if (idKey === undefined) {
    for (const key of Object.getOwnPropertySymbols(session)) {
      if (key.description === 'sessionId') idKey = key
      else if (key.description === 'encryptedSessionId') signedKey = key
    }
  }
  return idKey !== undefined && signedKey !== undefined && session[idKey] === sid ? session[signedKey] : undefined
}

/** A new object for `get` to fill with the stored fields: carrying `signed`, the value `signedValueOf` gave. */
export function withSignedValue (sid: string, signed: unknown): Record<string | symbol, unknown> {
  const out: Record<string | symbol, unknown> = {}
  if (idKey !== undefined && signedKey !== undefined && signed !== undefined) {
    out[idKey] = sid
    out[signedKey] = signed
  }
  return out
}
