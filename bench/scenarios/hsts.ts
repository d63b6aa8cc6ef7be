// A GET route with fleetHsts against the same route with @fastify/helmet (defaults, and HSTS only)
// and against the bare route (hello-fleet), over HTTP/2 and the HTTP/1.1 fallback. The Host is a
// real name: fleetHsts sends no header for IP literals such as 127.0.0.1.
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const server = (file: string): URL => new URL(`../servers/${file}`, import.meta.url)
const fleet: ServerEntry = { module: server('hsts-fleet.js') }
const anchors: [AnchorEntry, ...AnchorEntry[]] = [
  { label: 'bare route', module: server('hello-fleet.js') },
  { label: '@fastify/helmet', module: server('hsts-helmet.js') },
  { label: '@fastify/helmet, HSTS only', module: server('hsts-helmet-only.js') }
]

export default defineScenarios([
  { name: 'HSTS, HTTP/2 (h2load)', protocol: 'h2', fleet, anchors, request: { headers: { ':authority': 'app.example.com' } } },
  { name: 'HSTS, HTTP/1.1 TLS (autocannon)', protocol: 'h1', fleet, anchors, request: { headers: { host: 'app.example.com' } } }
])
