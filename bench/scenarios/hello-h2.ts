// hello-world (`GET /` → `{ hello: 'world' }`) on `serverOptions()`: HTTP/2 over TLS with h2load,
// then the HTTP/1.1 fallback on the same servers with autocannon. Anchors: the same Fastify setup
// written by hand (same dev certificate), as Fastify options and as an `http2.createSecureServer`
// given to `serverFactory`.
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const fleet: ServerEntry = { module: new URL('../servers/hello-fleet.js', import.meta.url) }
const anchors: [AnchorEntry, ...AnchorEntry[]] = [
  { label: 'fastify({ http2, https })', module: new URL('../servers/hello-anchor-options.js', import.meta.url) },
  { label: 'http2.createSecureServer', module: new URL('../servers/hello-anchor-secure-server.js', import.meta.url) }
]

export default defineScenarios([
  { name: 'hello-world HTTP/2 (h2load)', protocol: 'h2', fleet, anchors },
  { name: 'hello-world HTTP/1.1 fallback, TLS (autocannon)', protocol: 'h1', fleet, anchors }
])
