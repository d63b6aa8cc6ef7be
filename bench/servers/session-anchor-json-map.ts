// anchor: the same session app on the smallest store that keeps copies: a Map of JSON strings,
// synchronous callbacks, no expiry, no bound. The floor for any store that does not keep
// @fastify/session's live objects (this one also makes @fastify/session sign the cookie on every read).
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'

type Callback = (err?: Error | null, value?: any) => void
const map = new Map<string, string>()
const store = {
  get (sid: string, cb: Callback): void {
    const text = map.get(sid)
    cb(null, text === undefined ? null : JSON.parse(text))
  },
  set (sid: string, session: unknown, cb: Callback): void {
    map.set(sid, JSON.stringify(session))
    cb()
  },
  destroy (sid: string, cb: Callback): void {
    map.delete(sid)
    cb()
  }
}

await serve(await sessionApp(store))
