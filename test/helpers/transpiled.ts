/**
 * The plugin sources as plain JavaScript, for a process that cannot run TypeScript (another Node
 * version, spawned without tap's loader): each `.ts` file reachable from an entry point through
 * relative imports, transpiled on its own (no type check) into a scratch folder that mirrors the
 * repository, with a `node_modules` link so bare imports resolve as in the repository. Unlike
 * `dist/`, it always follows the sources, and nothing else writes to it.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g

/**
 * Transpiles `entry` (a path from the repository root, e.g. `plugins/cluster/index.ts`) and what it
 * imports; resolves with the `file:` URL of the entry's JavaScript. The folder is removed when the
 * test ends.
 */
export async function transpiledModule (t: { teardown: (fn: () => unknown) => unknown }, entry: string): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'fleet-transpiled-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))
  await symlink(join(REPO_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir')
  const seen = new Set<string>()
  const pending = [resolve(REPO_ROOT, entry)]
  while (pending.length > 0) {
    const file = pending.pop() as string
    if (seen.has(file)) continue
    seen.add(file)
    const source = await readFile(file, 'utf8')
    for (const match of source.matchAll(RELATIVE_IMPORT)) pending.push(resolve(dirname(file), `${match[1] as string}.ts`))
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true }
    })
    const target = join(out, relative(REPO_ROOT, file)).replace(/\.ts$/, '.js')
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, outputText)
  }
  return pathToFileURL(join(out, entry.replace(/\.ts$/, '.js'))).href
}
