// `node dist/bench/repeat.js` (after `npm run build`): runs the whole bench (`dist/bench/run.js`)
// BENCH_REPEAT times (default 3) in a row, each run writing its results to a temporary file, then
// writes bench/REPEAT.md: every row's ratio in each run side by side, and whether it repeats within
// ±5 %. The other BENCH_* variables reach every run (BENCH_ONLY to repeat a few scenarios);
// BENCH_RESULTS is set by this script. Takes BENCH_REPEAT times as long as `npm run bench`.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchVariables, parseResults, readRepeatCount, renderRepeat, type ParsedRun } from './lib/repeat.js'

const runScript = fileURLToPath(new URL('./run.js', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const output = resolve(repoRoot, 'bench/REPEAT.md')
const log = (line: string): void => { process.stderr.write(`${line}\n`) }

/**
 * Runs the bench once with its results in `file`; resolves to its exit code (130 when killed by a
 * signal). Ctrl-C reaches the run from the terminal (same process group) and SIGTERM is passed on:
 * the run stops its servers, then this script stops too.
 */
async function runOnce (file: string): Promise<number> {
  const child = spawn(process.execPath, [runScript], { env: { ...process.env, BENCH_RESULTS: file }, stdio: 'inherit' })
  const wait = (): void => {}
  const forward = (): void => { child.kill('SIGTERM') }
  process.on('SIGINT', wait)
  process.on('SIGTERM', forward)
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => { resolve(code ?? 130) })
    })
  } finally {
    process.off('SIGINT', wait)
    process.off('SIGTERM', forward)
  }
}

let count: number
try {
  count = readRepeatCount(process.env)
} catch (err) {
  log((err as Error).message)
  process.exit(2)
}

const dir = await mkdtemp(join(tmpdir(), 'fleet-bench-repeat-'))
try {
  const runs: ParsedRun[] = []
  for (let i = 1; i <= count; i++) {
    log(`\n=== run ${i} of ${count} ===`)
    const file = join(dir, `run-${i}.md`)
    const code = await runOnce(file)
    // exit code 1 with a results file: some rows failed (a backend missing...); their rows say so
    if (code > 1) throw new Error(`run ${i} stopped (exit code ${code})`)
    runs.push(parseResults(await readFile(file, 'utf8')))
  }
  const command = `${benchVariables(process.env)}node dist/bench/repeat.js`
  await writeFile(output, renderRepeat(runs, command))
  log(`wrote ${output}`)
} catch (err) {
  log(err instanceof Error ? err.message : String(err))
  process.exitCode = 1
} finally {
  await rm(dir, { recursive: true, force: true })
}
