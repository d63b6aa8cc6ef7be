// The README's option tables against the defaults the plugins' option checks use: every default of
// a DEFAULTS object is in the table of its section, with the same value, so docs and code cannot drift.
import { readFileSync } from 'node:fs'
import { test } from 'tap'
import { DEFAULTS as CLUSTER, RESTART_DEFAULTS } from '../../plugins/cluster/options.js'
import { SHARED_MAP_DEFAULTS } from '../../plugins/cluster/shared-map.js'
import { WORKER_DEFAULTS } from '../../plugins/cluster/worker-plugin.js'
import { CACHE_DEFAULTS, DEFAULTS as CORS } from '../../plugins/cors/options.js'
import { DEFAULTS as HSTS, REDIRECT_DEFAULTS } from '../../plugins/hsts/options.js'
import { DEFAULTS as SERVER, DEV_CERT_DEFAULTS } from '../../plugins/server/options.js'
import { DEFAULTS as STORE } from '../../plugins/session/options.js'
import { CLUSTER_DEFAULTS } from '../../plugins/session/stores/cluster.js'
import { MEMCACHED_DEFAULTS } from '../../plugins/session/stores/memcached.js'
import { MEMORY_DEFAULTS } from '../../plugins/session/stores/memory.js'
import { MYSQL_DEFAULTS } from '../../plugins/session/stores/mysql.js'
import { POSTGRES_DEFAULTS } from '../../plugins/session/stores/postgres.js'
import { REDIS_DEFAULTS } from '../../plugins/session/stores/redis.js'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('\n')

/** The rows of the option tables under `heading` (up to the next heading of any level): option name → its default cell. */
function tables (heading: string): Map<string, string> {
  const start = README.findIndex((line) => line.startsWith('#') && line.includes(heading))
  if (start === -1) throw new Error(`no heading ${heading}`)
  const rows = new Map<string, string>()
  for (let i = start + 1; i < README.length && !(README[i] as string).startsWith('#'); i++) {
    const cells = (README[i] as string).split(' | ')
    if (!(README[i] as string).startsWith('| `') || cells.length < 3) continue
    const names = [...(cells[0] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)
    const values = (cells[1] as string).split(/, (?![^{]*})/)
    // `a`, `b` | `1`, `2`: one default each, in order; one name: the whole cell
    names.forEach((name, n) => rows.set(name, names.length === 1 ? cells[1] as string : values[n] ?? ''))
  }
  return rows
}

/** How the README writes a default. */
function rendered (value: unknown): string[] {
  if (typeof value === 'string') return [`\`'${value}'\``, `\`${value}\``]
  if (Array.isArray(value)) return value.length === 0 ? ['`[]`'] : [value.join(', '), value.map((v) => `\`${String(v)}\``).join(', ')]
  if (value !== null && typeof value === 'object') {
    if (Object.keys(value).length === 0) return ['`{}`']
    return [`\`{ ${Object.entries(value).map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`).join(', ')} }\``]
  }
  return [`\`${String(value)}\``]
}

const sections: Array<[string, Record<string, unknown>, string]> = [
  ['`fastify-fleet/server`', SERVER, ''],
  ['Development certificate', DEV_CERT_DEFAULTS, ''],
  ['`fastify-fleet/session`', STORE, ''],
  ['`MemoryStore`', MEMORY_DEFAULTS, ''],
  ['`ClusterStore`', CLUSTER_DEFAULTS, ''],
  ['`RedisStore`', REDIS_DEFAULTS, ''],
  ['`PostgresStore`', POSTGRES_DEFAULTS, ''],
  ['`MySqlStore`', MYSQL_DEFAULTS, ''],
  ['`MemcachedStore`', MEMCACHED_DEFAULTS, ''],
  ['### Options', CORS, ''],
  ['### Options', CACHE_DEFAULTS, 'cache.'],
  ['`fleetHsts` options', HSTS, ''],
  ['Redirect options', REDIRECT_DEFAULTS, ''],
  ['## `fastify-fleet/cluster`', CLUSTER, ''],
  ['## `fastify-fleet/cluster`', RESTART_DEFAULTS, 'restart.'],
  ['`fleetWorker`', WORKER_DEFAULTS, ''],
  ['Shared maps', SHARED_MAP_DEFAULTS, '']
]

test('every default in the README is the one the code uses', async (t) => {
  for (const [heading, defaults, prefix] of sections) {
    const rows = tables(heading)
    for (const [key, value] of Object.entries(defaults)) {
      // functions (serializer, clocks) are described, not written out
      if (typeof value === 'function' || key === 'serializer') continue
      const cell = rows.get(prefix + key)
      t.ok(cell !== undefined, `${heading}: ${prefix}${key} has a row`)
      if (cell === undefined) continue
      t.ok(rendered(value).some((text) => cell.includes(text)), `${heading}: ${prefix}${key} is ${rendered(value)[0]} (README: ${cell})`)
    }
  }
})
