// anchor: the same session app on the smallest store that keeps copies: a Map of JSON strings,
// synchronous callbacks, no expiry, no bound, no write elision. Like fastify-fleet's stores, it hands
// @fastify/session back the signed cookie value of a session it was given (under the Session's own
// symbols), so that reading one costs no HMAC: what is left between it and @fastify/session's own
// MemoryStore (the live objects) is the copying itself, the floor for any store that copies.
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'

type Callback = (err?: Error | null, value?: any) => void
const map = new Map<string, { text: string, signed: unknown }>()
let idKey: symbol | undefined
let signedKey: symbol | undefined
const store = {
  get (sid: string, cb: Callback): void {
    const entry = map.get(sid)
    if (entry === undefined) return cb(null, null)
    const out: Record<string | symbol, unknown> = {}
    if (idKey !== undefined && signedKey !== undefined && entry.signed !== undefined) {
      out[idKey] = sid
      out[signedKey] = entry.signed
    }
    cb(null, Object.assign(out, JSON.parse(entry.text)))
  },
  set (sid: string, live: object, cb: Callback): void {
    const session = live as Record<string | symbol, unknown>
    if (idKey === undefined) {
      // the Session's symbols, found once by their descriptions
      for (const key of Object.getOwnPropertySymbols(session)) {
        if (key.description === 'sessionId') idKey = key
        else if (key.description === 'encryptedSessionId') signedKey = key
      }
    }
    const signed = idKey !== undefined && signedKey !== undefined && session[idKey] === sid ? session[signedKey] : undefined
    map.set(sid, { text: JSON.stringify(session), signed })
    cb()
  },
  destroy (sid: string, cb: Callback): void {
    map.delete(sid)
    cb()
  }
}

await serve(await sessionApp(store))
