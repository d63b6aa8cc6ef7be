// The machine's own noise: the hello-world server (`servers/hello-fleet.ts`) against a second process
// of the very same server, over HTTP/2 (h2load) and the HTTP/1.1 fallback (autocannon). Both sides
// do the same work, so the true ratio is 1.00; the spread of these rows is how far two identical
// servers drift apart from round to round on this machine (the load generator and the servers
// share its cores). A ratio spread narrower than this row's cannot be shown by any server on this
// machine, and a row whose ratio differs from 1 by less than it does not tell the two apart.
import { defineScenarios, type AnchorEntry, type ServerEntry } from '../lib/scenario.js'

const server = new URL('../servers/hello-fleet.js', import.meta.url)
const fleet: ServerEntry = { module: server }
const anchors: [AnchorEntry] = [{ label: 'the same server in a second process (noise floor)', module: server }]

export default defineScenarios([
  { name: 'noise floor: hello-world HTTP/2 (h2load)', protocol: 'h2', fleet, anchors },
  { name: 'noise floor: hello-world HTTP/1.1 fallback, TLS (autocannon)', protocol: 'h1', fleet, anchors }
])
