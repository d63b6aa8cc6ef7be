// anchor: the same session app on the smallest store that keeps copies: a Map of JSON strings,
// synchronous callbacks, no expiry, no bound, no write elision. Like fastify-fleet's stores, it hands
// @fastify/session back the signed cookie value of a session it was given (under the Session's own
// symbols), so that reading one costs no HMAC: what is left between it and @fastify/session's own
// MemoryStore (the live objects) is the copying itself, the floor for any store that copies.
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { signedValueOf, withSignedValue } from '../lib/signed-value.js'

type Callback = (err?: Error | null, value?: any) => void
const map = new Map<string, { text: string, signed: unknown }>()
const store = {
  get (sid: string, cb: Callback): void {
    const entry = map.get(sid)
    if (entry === undefined) return cb(null, null)
    cb(null, Object.assign(withSignedValue(sid, entry.signed), JSON.parse(entry.text)))
  },
  set (sid: string, live: object, cb: Callback): void {
    map.set(sid, { text: JSON.stringify(live), signed: signedValueOf(sid, live) })
    cb()
  },
  destroy (sid: string, cb: Callback): void {
    map.delete(sid)
    cb()
  }
}

await serve(await sessionApp(store))
