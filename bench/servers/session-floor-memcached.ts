// floor: the same session app on the least a store on memjs does per request: one `get` and one
// `set` of the whole session, JSON in and out, through callbacks, on a memjs client made as
// MemcachedStore makes its own (`retries: 1`, the JSON flag). Like fastify-fleet's stores it hands
// @fastify/session back the signed cookie value (lib/signed-value.ts). No timeout, no write
// elision, no check of what it reads: less than MemcachedStore must do. Its own ratio over
// connect-memcached (the quotient of the write row's two ratios) is what memjs allows any store.
import memjs from 'memjs'
import { jsonFlagSerializer } from 'fastify-fleet/session'
import { serve } from '../lib/serve.js'
import { sessionApp } from '../lib/session-app.js'
import { signedValueOf, withSignedValue } from '../lib/signed-value.js'
import { memcachedServers, rolling } from './session-memcached-shared.js'

type Callback = (err?: Error | null, value?: any) => void
const client = memjs.Client.create(memcachedServers(), { retries: 1, serializer: jsonFlagSerializer as never, logger: { log: () => {} } })
const signed = new Map<string, unknown>()
const DAY_SECONDS = 86_400

const store = {
  get (sid: string, cb: Callback): void {
    client.get(sid).then(({ value }) => {
      cb(null, value === null ? null : Object.assign(withSignedValue(sid, signed.get(sid)), JSON.parse(value.toString())))
    }, cb)
  },
  set (sid: string, live: object, cb: Callback): void {
    const expires = (live as { cookie?: { expires?: unknown } }).cookie?.expires
    const seconds = expires instanceof Date ? Math.max(1, Math.ceil((expires.getTime() - Date.now()) / 1000)) : DAY_SECONDS
    signed.set(sid, signedValueOf(sid, live))
    client.set(sid, JSON.stringify(live), { expires: seconds }).then(() => { cb() }, cb)
  },
  destroy (sid: string, cb: Callback): void {
    signed.delete(sid)
    client.delete(sid).then(() => { cb() }, cb)
  }
}

await serve(await sessionApp(store, { rolling }))
