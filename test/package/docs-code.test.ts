// The code of the README and docs/*.md, checked so the docs cannot rot (see docs/architecture.md,
// "Docs that cannot rot"): every block fenced as ```ts runnable type-checks, all of them in one
// TypeScript program with the project's compiler options; the ones fenced ```ts runnable exec also
// run, each in a child process; and every relative link and #anchor points at something that exists.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'
import { freePort } from '../helpers/ports.js'

t.setTimeout(300_000)

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
// how long an exec block may take to start, answer and stop (TypeScript is compiled on the way in)
const EXEC_TIMEOUT = 90_000

interface Block {
  /** The Markdown file, from the repository root. */
  doc: string
  /** The line of the opening fence (1-based). */
  line: number
  code: string
  exec: boolean
}

interface Fence { char: string, length: number }

/** The lines of `text` outside fenced code blocks, with their line numbers, and the fenced blocks. */
function parse (doc: string, text: string): { prose: Array<[number, string]>, blocks: Array<Block & { info: string[] }> } {
  const lines = text.split('\n')
  const prose: Array<[number, string]> = []
  const blocks: Array<Block & { info: string[] }> = []
  let open: (Fence & { line: number, info: string[], body: string[] }) | null = null
  lines.forEach((line, i) => {
    const fence = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line)
    if (open === null) {
      if (fence === null) return prose.push([i + 1, line])
      const marks = fence[1] as string
      open = { char: marks[0] as string, length: marks.length, line: i + 1, info: (fence[2] as string).trim().split(/\s+/).filter(Boolean), body: [] }
      return
    }
    const closing = fence !== null && (fence[1] as string)[0] === open.char && (fence[1] as string).length >= open.length && (fence[2] as string).trim() === ''
    if (!closing) return open.body.push(line)
    blocks.push({ doc, line: open.line, code: open.body.join('\n'), exec: false, info: open.info })
    open = null
  })
  if (open !== null) throw new Error(`${doc}: the code block opened on line ${(open as { line: number }).line} is never closed`)
  return { prose, blocks }
}

const parsed = new Map(DOCS.map((doc) => [doc, parse(doc, readFileSync(join(ROOT, doc), 'utf8'))]))
const runnable: Block[] = [...parsed.values()].flatMap(({ blocks }) => blocks)
  .filter((b) => b.info[0] === 'ts' && b.info.includes('runnable'))
  .map((b) => ({ doc: b.doc, line: b.line, code: b.code, exec: b.info.includes('exec') }))

// inside the repository (under .tap/, ignored by git and lint), so that `fastify-fleet/<subpath>`
// resolves through the package's self-reference and its `fleet-source` condition
mkdirSync(join(ROOT, '.tap'), { recursive: true })
const work = mkdtempSync(join(ROOT, '.tap', 'docs-code-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

const fileOf = new Map<Block, string>()
for (const block of runnable) {
  const name = `${block.doc.replace(/^docs\//, '').replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}.ts`
  const file = join(work, name)
  // `export {}`: a module even without imports, so blocks never share top-level names
  writeFileSync(file, `${block.code}\nexport {}\n`)
  fileOf.set(block, file)
}

const where = (block: Block): string => `${block.doc}:${block.line}`

t.test('the docs have runnable blocks, among them the README\'s composed example, which runs', async (t) => {
  t.ok(runnable.length >= 10, `at least 10 runnable blocks (found ${runnable.length})`)
  const readme = runnable.filter((b) => b.doc === 'README.md')
  t.equal(readme.length, 1, 'the README has one runnable block')
  t.ok(readme[0]?.exec === true, 'the README\'s block is marked exec')
  for (const subpath of ['fastify-fleet/server', 'fastify-fleet/session', 'fastify-fleet/cors', 'fastify-fleet/hsts', 'fastify-fleet/cluster']) {
    t.ok(readme[0]?.code.includes(`from '${subpath}'`), `the README's example imports ${subpath}`)
  }
  for (const doc of ['docs/server.md', 'docs/session.md', 'docs/cors.md', 'docs/hsts.md', 'docs/cluster.md']) {
    t.ok(runnable.some((b) => b.doc === doc), `${doc} has runnable blocks`)
  }
})

t.test('every runnable block type-checks (one program, the options of tsconfig.json)', async (t) => {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')) }
  })
  if (config === undefined) throw new Error('tsconfig.json cannot be read')
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    incremental: false,
    composite: false
  }
  const program = ts.createProgram([...fileOf.values()], options)
  const diagnostics = ts.getPreEmitDiagnostics(program)
  const byFile = new Map<string, string[]>()
  const elsewhere: string[] = []
  for (const d of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    if (d.file === undefined || d.start === undefined) {
      elsewhere.push(message)
      continue
    }
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
    const file = resolve(d.file.fileName)
    const list = byFile.get(file) ?? []
    list.push(`${line + 1}:${character + 1} TS${d.code} ${message}`)
    byFile.set(file, list)
    if (!file.startsWith(work)) elsewhere.push(`${relative(ROOT, file)}:${line + 1} TS${d.code} ${message}`)
  }
  t.same(elsewhere, [], 'no diagnostics outside the blocks')
  for (const block of runnable) {
    // a diagnostic's line in the block file is the same line of the block, one below the fence
    const found = (byFile.get(resolve(fileOf.get(block) as string)) ?? [])
      .map((d) => d.replace(/^(\d+):/, (_, n: string) => `${block.doc}:${block.line + Number(n)}:`))
    t.same(found, [], `${where(block)} type-checks`)
  }
})

/** The status of `GET /` at `url` (HTTP/2 for https:, HTTP/1.1 for http:). */
async function getRoot (url: string): Promise<number> {
  const target = new URL('/', url)
  if (target.protocol === 'https:') {
    const session = http2Connect(target.origin, { rejectUnauthorized: false })
    try {
      const stream = session.request({ ':path': '/' })
      const [headers] = await once(stream, 'response') as [Record<string, unknown>]
      stream.resume()
      await once(stream, 'end')
      return Number(headers[':status'])
    } finally {
      session.close()
    }
  }
  return await new Promise((resolve, reject) => {
    httpGet(target, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode as number))
    }).on('error', reject)
  })
}

/** The URL of Fastify's (pino's) `Server listening at <url>` line, or `null` for any other line. */
function listeningUrl (line: string): string | null {
  let msg: unknown
  try {
    msg = (JSON.parse(line) as { msg?: unknown }).msg
  } catch {
    return null
  }
  const match = typeof msg === 'string' ? /^Server listening at (\S+)$/.exec(msg) : null
  return match === null ? null : match[1] as string
}

interface ExecResult { listening: string | null, status: number | null, code: number | null, signal: string | null, output: string }

/** Runs one block: until it exits by itself, or until it listens, answers `GET /` and stops on SIGTERM. */
async function execBlock (file: string): Promise<ExecResult> {
  const cache = mkdtempSync(join(work, 'cache-'))
  const port = await freePort()
  let redirectPort = await freePort()
  while (redirectPort === port) redirectPort = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    REDIRECT_PORT: String(redirectPort),
    SESSION_SECRET: 'a-session-secret-for-the-docs-test-0123456789',
    FLEET_CLUSTER: '0',
    XDG_CACHE_HOME: cache
  }
  delete env.NODE_ENV
  // a docs example is not the project's code: its own branches stay out of the coverage report
  // (tap's process-info loader records a child's coverage unless this says 0)
  env._TAPJS_PROCESSINFO_COVERAGE_ = '0'
  const child = spawn(process.execPath, [...process.execArgv, file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const result: ExecResult = { listening: null, status: null, code: null, signal: null, output: '' }
  const exited = once(child, 'exit').then(([code, signal]) => {
    result.code = code as number | null
    result.signal = signal as string | null
  })
  let onListening: (url: string) => void = () => {}
  const listening = new Promise<string>((resolve) => { onListening = resolve })
  let buffer = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    result.output += chunk
    buffer += chunk
    const lines = buffer.split('\n')
    buffer = lines.pop() as string
    for (const line of lines) {
      const url = listeningUrl(line)
      if (url !== null) onListening(url)
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { result.output += chunk })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, EXEC_TIMEOUT)
  try {
    const url = await Promise.race([listening, exited.then(() => null)])
    if (url !== null) {
      result.listening = url
      try {
        result.status = await getRoot(url)
      } catch (err) {
        result.output += `\nGET / failed: ${String(err)}`
      }
      child.kill('SIGTERM')
    }
    await exited
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  return result
}

t.test('every exec block runs', async (t) => {
  const execs = runnable.filter((b) => b.exec)
  t.ok(execs.length > 0, 'there are exec blocks')
  // two at a time: the machine is shared
  const queue = [...execs]
  const results = new Map<Block, ExecResult>()
  await Promise.all([0, 1].map(async () => {
    for (let block = queue.shift(); block !== undefined; block = queue.shift()) {
      results.set(block, await execBlock(fileOf.get(block) as string))
    }
  }))
  for (const block of execs) {
    const r = results.get(block) as ExecResult
    const diag = { output: r.output.slice(-4000) }
    if (r.listening !== null) {
      t.ok(r.status !== null && r.status < 500, `${where(block)} answers GET ${r.listening} (status ${String(r.status)})`, diag)
      t.ok(r.code === 0 || r.signal === 'SIGTERM', `${where(block)} stops on SIGTERM (code ${String(r.code)}, signal ${String(r.signal)})`, diag)
    } else {
      t.equal(r.code, 0, `${where(block)} exits with 0`, diag)
    }
  }
  const readme = execs.find((b) => b.doc === 'README.md')
  const r = readme === undefined ? undefined : results.get(readme)
  t.match(r?.listening, /^https:\/\/127\.0\.0\.1:\d+$/, 'the README example listens over TLS')
  t.equal(r?.status, 200, 'the README example answers GET / over HTTP/2 with 200')
  t.equal(r?.code, 0, 'the README example exits with 0 on SIGTERM (drained and closed)')
})

/** GitHub's anchor of a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
function slug (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** The anchors of a Markdown file's headings, with -1, -2... for repeats as GitHub makes them. */
function anchors (doc: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const [, line] of (parsed.get(doc) as ReturnType<typeof parse>).prose) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line)
    if (heading === null) continue
    const base = slug(heading[1] as string)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

t.test('every relative link and anchor of the docs points at something that exists', async (t) => {
  const broken: string[] = []
  let count = 0
  for (const [doc, { prose }] of parsed) {
    for (const [line, text] of prose) {
      // inline code may hold brackets and parentheses that are no link
      for (const match of text.replace(/`[^`]*`/g, '``').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] as string
        if (/^[a-z]+:/i.test(target)) continue
        count++
        const [path = '', anchor] = target.split('#')
        const file = path === '' ? doc : relative(ROOT, resolve(ROOT, dirname(doc), path))
        if (!existsSync(join(ROOT, file))) {
          broken.push(`${doc}:${line}: ${target} (no ${file})`)
          continue
        }
        if (anchor === undefined) continue
        if (!parsed.has(file)) {
          broken.push(`${doc}:${line}: ${target} (an anchor in a file the test does not read)`)
        } else if (!anchors(file).has(anchor)) {
          broken.push(`${doc}:${line}: ${target} (no heading #${anchor} in ${file})`)
        }
      }
    }
  }
  t.ok(count > 50, `the docs have relative links (found ${count})`)
  t.same(broken, [], 'no broken link')
})
