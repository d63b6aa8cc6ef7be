// The published package, checked the way a user gets it: `npm pack` (which runs `prepack` → build),
// then the tarball installed in a scratch project, every `exports` subpath imported from ESM,
// required from CommonJS (Node ≥ 20.19 loads ESM through require) and type-checked from .mts and
// .cts files with `module: nodenext`, `strict` and `skipLibCheck: false`.
//
// Nothing here touches this working tree: the package is packed from a copy (so `prepack`, which
// deletes and rebuilds dist/, never races other tests or other people using dist/), and the
// scratch project gets the tarball extracted plus links to the declared dependencies and peers
// from this project's node_modules (no registry, no network; a dependency the package uses but
// does not declare is therefore missing there and fails the import).
import t from 'tap'
import { spawn } from 'node:child_process'
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync
} from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

t.setTimeout(240_000)

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NAME = 'fastify-fleet'
const TSC = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc')

type Kind = 'function' | 'class' | 'plugin'
interface Expectation {
  /** exports that must be there, with what they are */
  names: Record<string, Kind>
  /** the default export must be this named export (same value, same type) */
  defaultIs?: string
}

// What users (examples, README, DESIGN.md "Public surface") rely on per subpath. A subpath of
// `exports` missing from this table still has to load and export at least one value.
const EXPECTED: Record<string, Expectation> = {
  './server': { names: { serverOptions: 'function', devCertificate: 'function' } },
  // PostgresStore, MySqlStore, MemcachedStore, TieredStore: add them as they land
  './session': { names: { MemoryStore: 'class', ClusterStore: 'class', RedisStore: 'class', BackendStore: 'class' } },
  './session/conformance': { names: { storeConformance: 'function', forTap: 'function', forNodeTest: 'function' } },
  './cors': { names: { fleetCors: 'plugin' }, defaultIs: 'fleetCors' },
  './hsts': { names: { fleetHsts: 'plugin', httpsRedirectServer: 'function' }, defaultIs: 'fleetHsts' },
  './cluster': { names: { startCluster: 'function', fleetWorker: 'plugin' }, defaultIs: 'fleetWorker' }
}

// never in the tarball (paths relative to the package root)
const FORBIDDEN_PREFIXES = [
  'test/', 'bench/', 'examples/', '.ci/', '.github/', '.tap/', 'coverage/', 'node_modules/',
  'dist/test/', 'dist/bench/', 'dist/examples/'
]
const FORBIDDEN_FILES = /(?:^|\/)(?:[^/]+\.test\.(?:[cm]?[jt]s|d\.[cm]?ts)(?:\.map)?|[^/]+\.tsbuildinfo|[^/]+\.tgz|\.env[^/]*)$/
// generated / local-only folders of the working tree that a user's fresh clone does not have
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'coverage', '.tap', '.fleet-cache'])

interface Run { code: number | null, signal: string | null, stdout: string, stderr: string }

/** The environment for child processes: none of tap's loader/coverage hooks, none of the
 * `npm test` lifecycle variables (npm_config_prefix would make `npm pack` pack this tree). */
function childEnv (): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig'])
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase()
    if (k === 'node_options' || k === 'node_v8_coverage' || k.startsWith('tap') || k.startsWith('_tapjs')) continue
    if (k.startsWith('npm_') && !keep.has(k)) continue
    env[key] = value
  }
  env.NO_UPDATE_NOTIFIER = '1'
  return env
}

function run (command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      shell: process.platform === 'win32' && !command.endsWith('.exe')
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** npm itself: the one running this test when there is one, else `npm` from the PATH. */
function npm (args: string[], cwd: string): Promise<Run> {
  const execPath = process.env.npm_execpath
  if (execPath !== undefined && /npm-cli\.[cm]?js$/.test(execPath)) return run(process.execPath, [execPath, ...args], cwd)
  return run('npm', args, cwd)
}

/** Every file under dir, as posix paths relative to it. */
function walk (dir: string, base = dir): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(full, base))
    else out.push(relative(base, full).split(sep).join('/'))
  }
  return out.sort()
}

/** The JSON array `npm pack --json` prints, even when a lifecycle script wrote to stdout first. */
function parsePackJson (stdout: string): Array<{ filename: string, files: Array<{ path: string }> }> {
  const start = stdout.search(/^\[/m)
  if (start === -1) throw new Error(`no JSON in npm pack output:\n${stdout}`)
  return JSON.parse(stdout.slice(start))
}

/** Every [condition path, target] of an exports entry (string targets; we publish no arrays). */
function exportTargets (entry: unknown): Array<[condition: string, target: string]> {
  if (typeof entry === 'string') return [['(string)', entry]]
  if (entry === null || typeof entry !== 'object') return []
  return Object.entries(entry).flatMap(([condition, value]) =>
    exportTargets(value).map(([sub, target]): [string, string] =>
      [sub === '(string)' ? condition : `${condition}.${sub}`, target]))
}

/** The package a bare specifier belongs to (`@scope/name/x` → `@scope/name`), or undefined for
 * relative paths, URLs and Node built-ins. */
function packageOf (specifier: string): string | undefined {
  if (/^(?:\.|\/|[a-z]+:)/i.test(specifier) || isBuiltin(specifier)) return undefined
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

function link (from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true })
  symlinkSync(from, to, 'junction')
}

// Runs in the scratch project (ESM and CommonJS flavours): loads each subpath and describes its
// exports as JSON, so the assertions below stay in this file.
const DESCRIBE = `
const describe = (ns) => {
  const out = {}
  for (const name of Object.keys(ns)) {
    const value = ns[name]
    const kind = typeof value === 'function'
      ? (/^class\\b/.test(Function.prototype.toString.call(value)) ? 'class' : 'function')
      : (value === null ? 'null' : typeof value)
    const meta = typeof value === 'function' ? value[Symbol.for('plugin-meta')] : undefined
    out[name] = {
      kind,
      skipOverride: typeof value === 'function' ? value[Symbol.for('skip-override')] === true : false,
      pluginName: meta && typeof meta.name === 'string' ? meta.name : null,
      pluginFastify: meta && typeof meta.fastify === 'string' ? meta.fastify : null,
      sameAs: Object.keys(ns).filter((other) => other !== name && ns[other] === value)
    }
  }
  return out
}
const probe = async (load, subpaths) => {
  const result = {}
  for (const subpath of subpaths) {
    try {
      result[subpath] = { exports: describe(await load(subpath)) }
    } catch (err) {
      result[subpath] = { error: String(err && err.code ? err.code + ': ' : '') + String(err && err.message) }
    }
  }
  process.stdout.write('\\n@@PROBE@@' + JSON.stringify(result) + '\\n')
}
`
const PROBE_ESM = `${DESCRIBE}
await probe((subpath) => import(subpath), JSON.parse(process.argv[2]))
`
const PROBE_CJS = `${DESCRIBE}
probe(async (subpath) => require(subpath), JSON.parse(process.argv[2]))
`

interface ExportInfo { kind: string, skipOverride: boolean, pluginName: string | null, pluginFastify: string | null, sameAs: string[] }
type ProbeResult = Record<string, { exports?: Record<string, ExportInfo>, error?: string }>

function parseProbe (stdout: string): ProbeResult | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('@@PROBE@@'))
  return line === undefined ? undefined : JSON.parse(line.slice('@@PROBE@@'.length))
}

// ---------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'fleet-pack-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

interface Packed { tarball: string, files: string[], pkg: Record<string, unknown> & { exports: Record<string, unknown> } }
let packed: Packed | undefined
let subpaths: string[] = []
const scratch = join(work, 'scratch')
const installed = join(scratch, 'node_modules', NAME)

await t.test('npm pack runs prepack (the build) and makes a tarball', async (t) => {
  // a copy of the tree as a fresh clone has it, with this project's node_modules linked in
  const stage = join(work, 'stage')
  cpSync(ROOT, stage, {
    recursive: true,
    filter: (src) => {
      const rel = relative(ROOT, src)
      return !NOT_COPIED.has(rel.split(sep)[0] ?? '') && !rel.endsWith('.tgz')
    }
  })
  link(join(ROOT, 'node_modules'), join(stage, 'node_modules'))
  const out = join(work, 'out')
  mkdirSync(out)

  const res = await npm(['pack', '--json', '--pack-destination', out], stage)
  t.equal(res.code, 0, 'npm pack exits with 0', { stderr: res.stderr.slice(-4000), stdout: res.stdout.slice(-4000) })
  if (res.code !== 0) return

  const tarballs = readdirSync(out).filter((f) => f.endsWith('.tgz'))
  t.equal(tarballs.length, 1, 'npm pack writes one tarball', { found: tarballs })
  const report = parsePackJson(res.stdout)
  t.equal(report.length, 1, 'npm pack --json reports one package')
  const tarball = join(out, report[0]?.filename ?? String(tarballs[0]))
  t.ok(existsSync(tarball), `the reported tarball ${report[0]?.filename} exists`)
  if (!existsSync(tarball)) return

  // what is really in the tarball (extracted where the scratch project will use it)
  mkdirSync(installed, { recursive: true })
  const tar = await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], work)
  t.equal(tar.code, 0, 'the tarball extracts', { stderr: tar.stderr })
  const files = walk(installed)
  t.same(files, (report[0]?.files ?? []).map((f) => f.path).sort(), 'the tarball holds exactly what npm pack reported')

  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
  t.equal(pkg.name, NAME, 'the packed package.json names the package')
  t.equal(pkg.type, 'module', 'the packed package is ESM')
  t.ok(pkg.exports !== null && typeof pkg.exports === 'object' && !Array.isArray(pkg.exports), 'the packed package.json has an exports map')
  packed = { tarball, files, pkg }
  subpaths = Object.keys(pkg.exports ?? {}).filter((s) => s !== './package.json')
  t.ok(subpaths.length > 0, 'exports has at least one subpath besides ./package.json', { exports: pkg.exports })
})

await t.test('the tarball holds what the package needs and nothing else', async (t) => {
  if (packed === undefined) return t.fail('nothing to check: npm pack failed')
  const { files, pkg } = packed
  const has = new Set(files)

  const required = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']
  for (const file of required) t.ok(has.has(file), `${file} is in the tarball`)
  // the README links to docs/: every page of it ships, so the links work in node_modules too
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
  t.ok(docs.length > 0, 'docs/ has pages')
  for (const file of docs) t.ok(has.has(file), `${file} is in the tarball`)

  // every literal entry of `files` matches something (a typo or a file nobody made shows here)
  for (const entry of (pkg.files as string[] | undefined) ?? []) {
    const path = entry.replace(/^\.\//, '').replace(/\/$/, '')
    if (entry.startsWith('!') || /[*?[\]{}]/.test(entry) || required.includes(path)) continue
    t.ok(has.has(path) || files.some((f) => f.startsWith(`${path}/`)), `"files" entry ${entry} is in the tarball`)
  }

  // every target of the exports map, in every condition, is a file in the tarball
  const missing: string[] = []
  for (const [subpath, entry] of Object.entries(pkg.exports)) {
    const targets = exportTargets(entry)
    t.ok(targets.length > 0, `exports["${subpath}"] has a target`)
    for (const [condition, target] of targets) {
      t.ok(target.startsWith('./'), `exports["${subpath}"].${condition} is relative to the package (${target})`)
      if (!has.has(posix.normalize(target))) missing.push(`${subpath} ${condition} → ${target}`)
    }
    if (subpath === './package.json') continue
    t.ok(entry !== null && typeof entry === 'object', `exports["${subpath}"] is a conditions object`)
    const conditions = Object.keys(entry as object)
    t.ok(conditions.includes('types'), `exports["${subpath}"] has a "types" condition`)
    t.equal(conditions.at(-1), 'default', `exports["${subpath}"] ends with the "default" condition`)
    t.ok(conditions.indexOf('types') < conditions.indexOf('default'), `exports["${subpath}"] lists "types" before "default"`)
    const types = (entry as Record<string, unknown>).types
    const js = (entry as Record<string, unknown>).default
    t.match(types, /\.d\.ts$/, `exports["${subpath}"].types is a .d.ts file`)
    t.match(js, /\.js$/, `exports["${subpath}"].default is a .js file`)
  }
  t.same(missing, [], 'every exports target is in the tarball (dist/ missing? prepack must build)')

  const forbidden = files.filter((f) => FORBIDDEN_PREFIXES.some((p) => f.startsWith(p)) || FORBIDDEN_FILES.test(f))
  t.same(forbidden, [], 'no tests, benches, examples, CI files or local artefacts in the tarball')

  // source maps (and declaration maps) point at sources that are in the tarball
  const brokenMaps: string[] = []
  for (const map of files.filter((f) => f.endsWith('.map'))) {
    const json = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources?: string[], sourceRoot?: string }
    for (const source of json.sources ?? []) {
      const path = posix.normalize(posix.join(posix.dirname(map), json.sourceRoot ?? '', source))
      if (!has.has(path)) brokenMaps.push(`${map} → ${source}`)
    }
  }
  t.same(brokenMaps, [], 'every source named by a .map file is in the tarball')

  // every package the built code or its types import is a declared dependency or peer
  const declared = new Set([
    NAME,
    ...Object.keys((pkg.dependencies as object | undefined) ?? {}),
    ...Object.keys((pkg.peerDependencies as object | undefined) ?? {})
  ])
  const undeclared: string[] = []
  for (const file of files.filter((f) => f.startsWith('dist/') && /\.(?:[cm]?js|d\.[cm]?ts)$/.test(f))) {
    const info = ts.preProcessFile(readFileSync(join(installed, file), 'utf8'), true, true)
    for (const { fileName } of info.importedFiles) {
      const name = packageOf(fileName)
      if (name !== undefined && !declared.has(name)) undeclared.push(`${file} imports ${fileName}`)
    }
    for (const { fileName } of info.typeReferenceDirectives) {
      if (fileName !== 'node' && !declared.has(fileName) && !declared.has(`@types/${fileName}`)) {
        undeclared.push(`${file} references types ${fileName}`)
      }
    }
  }
  t.same(undeclared, [], 'the built files import only node: built-ins, dependencies and peerDependencies')
})

await t.test('a scratch project installs the tarball', async (t) => {
  if (packed === undefined) return t.fail('nothing to install: npm pack failed')
  const { pkg } = packed
  const deps = (pkg.dependencies ?? {}) as Record<string, string>
  const peers = (pkg.peerDependencies ?? {}) as Record<string, string>
  const optional = (pkg.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({
    name: 'fleet-pack-scratch',
    private: true,
    type: 'module',
    dependencies: { [NAME]: `file:${packed.tarball}`, ...Object.fromEntries(Object.entries(peers).filter(([n]) => optional[n]?.optional !== true)) }
  }, null, 2))

  // dependencies and required peers only: optional peers (database drivers) stay absent, so
  // loading a subpath must not need them
  const needed = [...Object.keys(deps), ...Object.keys(peers).filter((n) => optional[n]?.optional !== true)]
  t.ok(needed.includes('fastify'), 'fastify is a required peer dependency')
  for (const name of needed) {
    const from = join(ROOT, 'node_modules', name)
    t.ok(existsSync(join(from, 'package.json')), `${name} is installed in this project (run npm ci)`)
    if (existsSync(from)) link(from, join(scratch, 'node_modules', name))
  }
})

const esmNames: Record<string, string[]> = {}
for (const [flavour, file, source] of [
  ['ESM import()', 'probe.mjs', PROBE_ESM],
  ['CommonJS require()', 'probe.cjs', PROBE_CJS]
] as const) {
  await t.test(`every subpath loads through ${flavour} from the installed package`, async (t) => {
    if (packed === undefined) return t.fail('nothing to load: npm pack failed')
    writeFileSync(join(scratch, file), source)
    const specifiers = subpaths.map((s) => `${NAME}/${s.slice(2)}`)
    const res = await run(process.execPath, [file, JSON.stringify(specifiers)], scratch, 60_000)
    const result = parseProbe(res.stdout)
    t.equal(res.code, 0, `node ${file} exits with 0`, { stderr: res.stderr.slice(-4000) })
    if (result === undefined) return t.fail(`node ${file} printed no result`, { stdout: res.stdout, stderr: res.stderr })

    for (const subpath of subpaths) {
      const specifier = `${NAME}/${subpath.slice(2)}`
      const loaded = result[specifier]
      t.equal(loaded?.error, undefined, `${specifier} loads`)
      const exports = loaded?.exports
      if (exports === undefined) continue
      const names = Object.keys(exports).filter((n) => n !== '__esModule')
      t.ok(names.length > 0, `${specifier} exports at least one value`, { exports: names })
      if (file === 'probe.mjs') esmNames[specifier] = names
      else t.same(names, esmNames[specifier], `${specifier} has the same exports through require() as through import()`)
      const expected = EXPECTED[subpath]
      if (expected === undefined) continue
      for (const [name, kind] of Object.entries(expected.names)) {
        const info = exports[name]
        t.equal(info?.kind, kind === 'plugin' ? 'function' : kind, `${specifier} exports ${name} as a ${kind}`)
        if (kind !== 'plugin' || info === undefined) continue
        t.equal(info.skipOverride, true, `${name} is wrapped with fastify-plugin (not encapsulated)`)
        t.match(info.pluginName, /^fastify-fleet-[a-z0-9-]+$/, `${name} has fastify-plugin metadata name fastify-fleet-<plugin>`)
        t.equal(info.pluginFastify, '5.x', `${name} declares fastify: '5.x'`)
      }
      if (expected.defaultIs !== undefined) {
        t.ok(exports.default?.sameAs.includes(expected.defaultIs), `${specifier} default export is ${expected.defaultIs}`)
      }
    }
  })
}

await t.test('every subpath type-checks from .mts and .cts files (nodenext, strict, skipLibCheck off)', async (t) => {
  if (packed === undefined) return t.fail('nothing to type-check: npm pack failed')
  // types a user has: @types/node, and the optional peers this project installs (their types may
  // be referenced by ours, e.g. a client type)
  const optional = (packed.pkg.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>
  for (const name of ['@types/node', ...Object.keys(optional).filter((n) => optional[n]?.optional === true)]) {
    const from = join(ROOT, 'node_modules', name)
    const to = join(scratch, 'node_modules', name)
    if (existsSync(from) && !existsSync(to)) link(from, to)
  }
  t.ok(existsSync(join(scratch, 'node_modules', '@types', 'node', 'package.json')), '@types/node is available')

  const helpers = `
type IsAny<T> = 0 extends 1 & T ? true : false
type IsFunction<T> = [T] extends [(...args: never[]) => unknown] ? true : false
type IsClass<T> = [T] extends [abstract new (...args: never[]) => unknown] ? true : false
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
type HasValues<M> = [keyof M] extends [never] ? false : true
`
  const body = (importLine: (id: string, specifier: string) => string): string => {
    const lines: string[] = [helpers]
    let plugins = false
    subpaths.forEach((subpath, i) => {
      const id = `m${i}`
      const specifier = `${NAME}/${subpath.slice(2)}`
      lines.push(importLine(id, specifier))
      lines.push(`export const ${id}HasValues: HasValues<typeof ${id}> = true // ${specifier} exports values`)
      const expected = EXPECTED[subpath]
      if (expected === undefined) return
      for (const [name, kind] of Object.entries(expected.names)) {
        const is = kind === 'class' ? 'IsClass' : 'IsFunction'
        lines.push(`export const ${id}_${name}_typed: IsAny<typeof ${id}.${name}> = false // ${specifier}: ${name} is typed (not any)`)
        lines.push(`export const ${id}_${name}_kind: ${is}<typeof ${id}.${name}> = true // ${specifier}: ${name} is a ${kind}`)
        if (kind === 'plugin') {
          plugins = true
          lines.push(`void app.register(${id}.${name}, {} as never) // ${specifier}: ${name} is a Fastify plugin`)
        }
      }
      if (expected.defaultIs !== undefined) {
        lines.push(`export const ${id}_default: Equal<typeof ${id}.default, typeof ${id}.${expected.defaultIs}> = true // ${specifier}: default is ${expected.defaultIs}`)
      }
    })
    if (plugins) lines.splice(1, 0, importLine('fastify', 'fastify'), 'const app = fastify()')
    return lines.join('\n') + '\n'
  }
  writeFileSync(join(scratch, 'check.mts'), body((id, s) => s === 'fastify' ? `import ${id} from '${s}'` : `import * as ${id} from '${s}'`))
  writeFileSync(join(scratch, 'check.cts'), body((id, s) => `import ${id} = require('${s}')`))
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node']
    },
    files: ['check.mts', 'check.cts']
  }, null, 2))

  const res = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], scratch, 120_000)
  // each error in our generated files, with the line it is about (the comment says what it checks)
  const sources: Record<string, string[]> = {}
  const explained = (res.stdout + res.stderr).split('\n').map((line) => {
    const at = /^(check\.[cm]ts)\((\d+),\d+\): /.exec(line)
    if (at === null) return line
    const lines = (sources[at[1] as string] ??= readFileSync(join(scratch, at[1] as string), 'utf8').split('\n'))
    return `${line}\n    at: ${lines[Number(at[2]) - 1]?.trim()}`
  }).join('\n')
  t.equal(res.code, 0, 'tsc finds no errors in check.mts and check.cts', { diagnostics: explained.slice(-8000) })
})
