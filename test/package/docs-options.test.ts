// The option tables of docs/<subpath>.md against the defaults the plugins' option checks use: every
// default of a DEFAULTS object is in the table of its section, with the same value, so docs and code
// cannot drift.
import { readFileSync } from 'node:fs'
import { test } from 'tap'
import { DEFAULTS as CLUSTER, RESTART_DEFAULTS } from '../../plugins/cluster/options.js'
import { SHARED_MAP_DEFAULTS } from '../../plugins/cluster/shared-map.js'
import { WORKER_DEFAULTS } from '../../plugins/cluster/worker-plugin.js'
import { CACHE_DEFAULTS, DEFAULTS as CORS } from '../../plugins/cors/options.js'
import { DEFAULTS as HSTS, REDIRECT_DEFAULTS } from '../../plugins/hsts/options.js'
import { LIMIT_DEFAULTS } from '../../plugins/server/limits.js'
import { DEFAULTS as SERVER, DEV_CERT_DEFAULTS } from '../../plugins/server/options.js'
import { DEFAULTS as STORE } from '../../plugins/session/options.js'
import { CLUSTER_DEFAULTS } from '../../plugins/session/stores/cluster.js'
import { MEMCACHED_DEFAULTS } from '../../plugins/session/stores/memcached.js'
import { MEMORY_DEFAULTS } from '../../plugins/session/stores/memory.js'
import { MYSQL_DEFAULTS } from '../../plugins/session/stores/mysql.js'
import { POSTGRES_DEFAULTS } from '../../plugins/session/stores/postgres.js'
import { REDIS_DEFAULTS } from '../../plugins/session/stores/redis.js'

const docs = new Map<string, string[]>()
function lines (doc: string): string[] {
  let text = docs.get(doc)
  if (text === undefined) {
    text = readFileSync(new URL(`../../docs/${doc}`, import.meta.url), 'utf8').split('\n')
    docs.set(doc, text)
  }
  return text
}

/** The rows of the option tables under `heading` of `doc` (up to the next heading of any level): option name → its default cell. */
function tables (doc: string, heading: string): Map<string, string> {
  const text = lines(doc)
  const start = text.findIndex((line) => line.startsWith('#') && line.includes(heading))
  if (start === -1) throw new Error(`no heading ${heading} in docs/${doc}`)
  const rows = new Map<string, string>()
  for (let i = start + 1; i < text.length && !(text[i] as string).startsWith('#'); i++) {
    const line = text[i] as string
    const cells = line.split(' | ')
    if (!line.startsWith('| `') || cells.length < 3) continue
    const names = [...(cells[0] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)
    const values = (cells[1] as string).split(/, (?![^{]*})/)
    // `a`, `b` | `1`, `2`: one default each, in order; one name: the whole cell
    names.forEach((name, n) => rows.set(name, names.length === 1 ? cells[1] as string : values[n] ?? ''))
  }
  return rows
}

/** How the docs write a default. */
function rendered (value: unknown): string[] {
  if (typeof value === 'string') return [`\`'${value}'\``, `\`${value}\``]
  if (Array.isArray(value)) return value.length === 0 ? ['`[]`'] : [value.join(', '), value.map((v) => `\`${String(v)}\``).join(', ')]
  if (value !== null && typeof value === 'object') {
    if (Object.keys(value).length === 0) return ['`{}`']
    return [`\`{ ${Object.entries(value).map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`).join(', ')} }\``]
  }
  return [`\`${String(value)}\``]
}

// [doc, heading of the table, DEFAULTS, prefix of the option names in the table]
const sections: Array<[string, string, Record<string, unknown>, string]> = [
  ['server.md', '### `serverOptions(options)`', SERVER, ''],
  ['server.md', '### `devCertificate(options)`', DEV_CERT_DEFAULTS, ''],
  ['server.md', '### `limits` options', LIMIT_DEFAULTS, 'limits.'],
  ['session.md', '### Every store', STORE, ''],
  ['session.md', '### `MemoryStore` options', MEMORY_DEFAULTS, ''],
  ['session.md', '### `ClusterStore` options', CLUSTER_DEFAULTS, ''],
  ['session.md', '### `RedisStore` options', REDIS_DEFAULTS, ''],
  ['session.md', '### `PostgresStore` options', POSTGRES_DEFAULTS, ''],
  ['session.md', '### `MySqlStore` options', MYSQL_DEFAULTS, ''],
  ['session.md', '### `MemcachedStore` options', MEMCACHED_DEFAULTS, ''],
  ['cors.md', '## Options', CORS, ''],
  ['cors.md', '## Options', CACHE_DEFAULTS, 'cache.'],
  ['hsts.md', '### `fleetHsts` options', HSTS, ''],
  ['hsts.md', '### Redirect options', REDIRECT_DEFAULTS, ''],
  ['cluster.md', '### `startCluster` options', CLUSTER, ''],
  ['cluster.md', '### `restart` options', RESTART_DEFAULTS, 'restart.'],
  ['cluster.md', '### `fleetWorker` options', WORKER_DEFAULTS, ''],
  ['cluster.md', '### `sharedMap` options', SHARED_MAP_DEFAULTS, '']
]

test('every default in the docs is the one the code uses', async (t) => {
  for (const [doc, heading, defaults, prefix] of sections) {
    const rows = tables(doc, heading)
    for (const [key, value] of Object.entries(defaults)) {
      // functions (serializer, clocks) are described, not written out
      if (typeof value === 'function' || key === 'serializer') continue
      const cell = rows.get(prefix + key)
      t.ok(cell !== undefined, `docs/${doc} ${heading}: ${prefix}${key} has a row`)
      if (cell === undefined) continue
      t.ok(rendered(value).some((text) => cell.includes(text)), `docs/${doc} ${heading}: ${prefix}${key} is ${rendered(value)[0]} (docs: ${cell})`)
    }
  }
})
