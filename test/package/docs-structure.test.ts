// The shape of the docs: each docs/<subpath>.md has the same sections in the same order, option
// tables with the same columns, and every long page opens with a table of contents.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SUBPATHS = ['server', 'session', 'cors', 'hsts', 'cluster']
const SECTIONS = ['Install', 'Usage', 'Options', 'Errors', 'TypeScript', 'Security', 'Migrating']

/** The lines of a Markdown file outside fenced code blocks. */
function prose (path: string): string[] {
  const out: string[] = []
  let fence: string | null = null
  for (const line of readFileSync(join(ROOT, path), 'utf8').split('\n')) {
    const marks = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence === null && marks !== undefined) fence = marks
    else if (fence !== null && marks !== undefined && marks[0] === fence[0] && marks.length >= fence.length && line.trim() === marks) fence = null
    else if (fence === null) out.push(line)
  }
  return out
}

for (const name of SUBPATHS) {
  test(`docs/${name}.md has the sections of every subpath, in order`, async (t) => {
    const lines = prose(`docs/${name}.md`)
    const sections = lines.filter((l) => l.startsWith('## ')).map((l) => l.slice(3))
    t.same(sections.map((s) => s.split(' ')[0]), SECTIONS, `## ${SECTIONS.join(', ')}`)
    t.equal(lines[0], `# \`fastify-fleet/${name}\``, 'the title is the subpath')

    // every table under ## Options is an option table with the same three columns
    const start = lines.indexOf('## Options')
    const end = lines.indexOf('## Errors')
    const headers = lines.slice(start, end).filter((l, i, all) => l.startsWith('|') && !(all[i - 1] ?? '').startsWith('|'))
    t.ok(headers.length > 0, 'Options has a table')
    for (const header of headers) t.equal(header, '| option | default | meaning |', 'an option table has the columns option, default, meaning')
    const errors = lines.slice(end).find((l) => l.startsWith('|'))
    t.equal(errors, '| code | when |', 'the Errors table has the columns code, when')
  })
}

test('every page with several sections opens with a table of contents', async (t) => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  for (const page of pages) {
    const lines = prose(page)
    const first = lines.findIndex((l) => l.startsWith('## '))
    const sections = lines.filter((l) => l.startsWith('## ')).length
    if (sections < 3) continue
    const toc = lines.slice(0, first).filter((l) => /^- \[[^\]]+\]\(#[^)]+\)$/.test(l))
    t.ok(toc.length >= sections, `${page}: a table of contents before its first section, with a link per section (${toc.length} links, ${sections} sections)`)
  }
})
