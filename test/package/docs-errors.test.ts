// The Errors table of each docs/<subpath>.md against the codes of the subpath: every error class the
// subpath exports, and every code its sources write (a code only ever logged, such as a warning), is
// a row with a "when"; every row is a code of that subpath. A new code fails here until it is documented.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SUBPATHS = ['server', 'session', 'cors', 'hsts', 'cluster'] as const

/** Every `.ts` file under `dir`. */
function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The codes of `plugins/<name>/` written as string literals: defineError's first argument, and logged codes. */
function sourceCodes (name: string): Set<string> {
  const prefix = `FST_FLEET_${name.toUpperCase()}_`
  const codes = new Set<string>()
  for (const file of sources(join(ROOT, 'plugins', name))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/['"`](FST_FLEET_[A-Z0-9_]*[A-Z0-9])['"`]/g)) {
      const code = match[1] as string
      if (code.startsWith(prefix)) codes.add(code)
    }
  }
  return codes
}

/** The rows of the table under `## Errors` of docs/<name>.md: code → its "when" cell. */
function errorRows (name: string): Map<string, string> {
  const lines = readFileSync(join(ROOT, 'docs', `${name}.md`), 'utf8').split('\n')
  const start = lines.indexOf('## Errors')
  const rows = new Map<string, string>()
  if (start === -1) return rows
  for (let i = start + 1; i < lines.length && !(lines[i] as string).startsWith('## '); i++) {
    const match = /^\| `(FST_FLEET_[A-Z0-9_]+)` \| (.*) \|$/.exec(lines[i] as string)
    if (match !== null) rows.set(match[1] as string, (match[2] as string).trim())
  }
  return rows
}

for (const name of SUBPATHS) {
  test(`docs/${name}.md: the Errors table lists every code of fastify-fleet/${name}`, async (t) => {
    const mod = await import(`fastify-fleet/${name}`) as Record<string, unknown>
    const exported = Object.keys(mod).filter((key) => key.startsWith('FST_FLEET_')).sort()
    t.ok(exported.length > 0, `fastify-fleet/${name} exports error classes`)
    for (const key of exported) {
      const ErrorClass = mod[key] as new () => Error & { code: string }
      t.equal(new ErrorClass().code, key, `${key} is exported under its own code`)
    }
    const rows = errorRows(name)
    t.ok(rows.size > 0, `docs/${name}.md has an Errors table`)
    const known = new Set([...exported, ...sourceCodes(name)])
    for (const code of [...known].sort()) {
      const when = rows.get(code)
      t.ok(when !== undefined, `${code} has a row`)
      if (when !== undefined) t.ok(when.length > 0, `${code} says when`)
    }
    const unknown = [...rows.keys()].filter((code) => !known.has(code))
    t.same(unknown, [], `every row of docs/${name}.md is a code of fastify-fleet/${name}`)
  })
}
