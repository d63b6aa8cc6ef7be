import { readFile } from 'node:fs/promises'
import { test } from 'tap'
import { benchVariables, compareRuns, parseResults, readRepeatCount, renderRepeat, splitCells, type ParsedRun } from '../../bench/lib/repeat.js'

const fixture = async (i: number): Promise<string> => await readFile(new URL(`./fixtures/results-run-${i}.md`, import.meta.url), 'utf8')

test('readRepeatCount: BENCH_REPEAT, 3 by default, a whole number from 1 to 10', async (t) => {
  t.equal(readRepeatCount({}), 3)
  t.equal(readRepeatCount({ BENCH_REPEAT: ' ' }), 3)
  t.equal(readRepeatCount({ BENCH_REPEAT: '1' }), 1)
  t.equal(readRepeatCount({ BENCH_REPEAT: ' 10 ' }), 10)
  for (const bad of ['0', '11', '2.5', 'three']) {
    t.throws(() => readRepeatCount({ BENCH_REPEAT: bad }), new RangeError(`BENCH_REPEAT must be a whole number from 1 to 10, got ${JSON.stringify(bad)}`))
  }
})

test('benchVariables: the BENCH_* settings of the runs, as typed before a command', async (t) => {
  t.equal(benchVariables({}), '')
  t.equal(benchVariables({ PATH: '/bin', BENCH_RESULTS: 'x.md', BENCH_ROUNDS: ' ' }), '', 'not BENCH_RESULTS, not blank ones')
  t.equal(benchVariables({ BENCH_ROUNDS: '2', BENCH_ONLY: 'hello-world HTTP/2', BENCH_DURATION: '1' }),
    "BENCH_DURATION=1 BENCH_ONLY='hello-world HTTP/2' BENCH_ROUNDS=2 ")
  t.equal(benchVariables({ BENCH_ONLY: "it's" }), "BENCH_ONLY='it'\\''s' ")
})

test('splitCells: trimmed cells, escaped pipes inside a cell', async (t) => {
  t.strictSame(splitCells('| a | b \\| c |  1.23 |'), ['a', 'b | c', '1.23'])
  t.strictSame(splitCells('| x |'), ['x'])
})

test('parseResults: the run\'s date, load and run time, and each row of the results table', async (t) => {
  const run = parseResults(await fixture(1))
  t.strictSame(run.info, { date: '2026-12-07T01:00:00.000Z', loadAverage: '0.10 / 0.20 / 0.30 at start, 1.00 / 1.00 / 1.00 at end', runTime: '16 min 40 s' })
  t.strictSame(run.rows, [
    { name: 'HSTS, HTTP/2 (h2load) vs bare route', ratio: 0.99, spread: '±1.0 %', goal: '≥ 0.97×', verdict: 'met' },
    { name: 'HSTS, HTTP/2 (h2load) vs helmet | HSTS only', ratio: 1.98, spread: '±3.0 %', goal: '', verdict: '' },
    { name: 'CORS simple GET, static origin list, HTTP/1.1 TLS vs bare route', ratio: 0.98, spread: '±0.5 %', goal: '≥ 0.97×', verdict: 'met' },
    { name: 'session read, MySqlStore vs express-mysql-session 3', ratio: Number.NaN, spread: '—', goal: '≥ 1.5×', verdict: '—' },
    { name: 'cluster, CPU-bound route vs one process (workers: 1)', ratio: 1.72, spread: '±2.0 %', goal: '≥ 1.6×', verdict: 'met' }
  ], 'the IPC table after it is not read')
})

test('parseResults: what is missing', async (t) => {
  t.throws(() => parseResults('# Benchmark results\n'), new Error('no results table (a "## Results" section with a table)'))
  t.throws(() => parseResults('## Results\n\nno table\n'), new Error('no results table (a "## Results" section with a table)'))
  t.throws(() => parseResults('## Results\n\n| scenario | ratio |\n| --- | --: |\n| a | 1.00 |\n'), new Error('the results table has no "ratio spread" column'))
  t.strictSame(parseResults('## Results\n| scenario | ratio | ratio spread | goal | verdict |\n| --- | --- | --- | --- | --- |\n| a |\n').rows,
    [{ name: 'a', ratio: Number.NaN, spread: '', goal: '', verdict: '' }], 'missing cells')
  t.strictSame(parseResults('## Results\n| ratio | ratio spread | goal | verdict | scenario |\n| --- | --- | --- | --- | --- |\n| 1.00 |\n').rows,
    [{ name: '', ratio: 1, spread: '', goal: '', verdict: '' }], 'columns found by name, in any order')
  t.strictSame(parseResults('## Results\n| scenario | ratio | ratio spread | goal | verdict |\n| --- | --- | --- | --- | --- |\n').info,
    { date: '—', loadAverage: '—', runTime: '—' })
})

test('compareRuns: each row across the runs, its range, spread and whether it repeats within ±5 %', async (t) => {
  const runs: ParsedRun[] = await Promise.all([1, 2, 3].map(async (i) => parseResults(await fixture(i))))
  const repeats = compareRuns(runs)
  t.strictSame(repeats.map((r) => [r.name, r.runs.map((row) => row?.ratio), r.goal, r.range.toFixed(2), r.spread.toFixed(3), r.repeats]), [
    ['HSTS, HTTP/2 (h2load) vs bare route', [0.99, 0.97, 1], '≥ 0.97×', '0.03', '0.015', true],
    ['HSTS, HTTP/2 (h2load) vs helmet | HSTS only', [1.98, 1.95, 2.26], '', '0.31', '0.078', false],
    ['CORS simple GET, static origin list, HTTP/1.1 TLS vs bare route', [0.98, 0.98, 0.98], '≥ 0.97×', '0.00', '0.000', true],
    ['session read, MySqlStore vs express-mysql-session 3', [Number.NaN, Number.NaN, Number.NaN], '≥ 1.5×', 'NaN', 'NaN', false],
    ['cluster, CPU-bound route vs one process (workers: 1)', [1.72, 1.72, undefined], '≥ 1.6×', 'NaN', 'NaN', false]
  ])
  t.strictSame(compareRuns([]), [])
  const extra = { name: 'only in run 2', ratio: 1, spread: '', goal: '≥ 1×', verdict: 'met' }
  t.strictSame(compareRuns([{ ...runs[0]!, rows: [] }, { ...runs[0]!, rows: [extra] }]).map((r) => [r.name, r.runs, r.goal]),
    [['only in run 2', [undefined, extra], '≥ 1×']], 'a row first seen in a later run, its goal from the run that has it')
})

test('renderRepeat: the summary, one column per run, the runs\' conditions', async (t) => {
  const runs: ParsedRun[] = await Promise.all([1, 2, 3].map(async (i) => parseResults(await fixture(i))))
  const text = renderRepeat(runs, 'BENCH_REPEAT=3 node dist/bench/repeat.js')
  const lines = text.split('\n')
  t.equal(lines[0], '# Benchmark repeatability')
  t.equal(lines[2], '_Written by `BENCH_REPEAT=3 node dist/bench/repeat.js` (`bench/repeat.ts`); do not edit by hand._')
  t.match(lines[4], /^The whole bench, run 3 times in a row .* A row repeats within ±5 % when every run has a ratio and their spread is at most ±5 %\.$/)
  t.equal(lines[6], 'Rows with a goal that repeat within ±5 %: 2 of 4; every row: 2 of 5.')
  t.strictSame(lines.slice(8, 15), [
    '| row                                                             |         run 1 |         run 2 |         run 3 |     max − min | spread of runs | goal    | verdicts        | repeats within ±5 %   |',
    '| --------------------------------------------------------------- | ------------: | ------------: | ------------: | ------------: | -------------: | ------- | --------------- | --------------------- |',
    '| HSTS, HTTP/2 (h2load) vs bare route                             | 0.99 (±1.0 %) | 0.97 (±0.5 %) | 1.00 (±0.5 %) |  0.03 (3.0 %) |         ±1.5 % | ≥ 0.97× | met / met / met | yes                   |',
    '| HSTS, HTTP/2 (h2load) vs helmet \\| HSTS only                    | 1.98 (±3.0 %) | 1.95 (±1.0 %) | 2.26 (±1.6 %) | 0.31 (15.7 %) |         ±7.8 % |         |                 | no                    |',
    '| CORS simple GET, static origin list, HTTP/1.1 TLS vs bare route | 0.98 (±0.5 %) | 0.98 (±5.0 %) | 0.98 (±0.0 %) |  0.00 (0.0 %) |         ±0.0 % | ≥ 0.97× | met / met / met | yes                   |',
    '| session read, MySqlStore vs express-mysql-session 3             |             — |             — |             — |             — |              — | ≥ 1.5×  | — / — / —       | no ratio in every run |',
    '| cluster, CPU-bound route vs one process (workers: 1)            | 1.72 (±2.0 %) | 1.72 (±2.0 %) |        no row |             — |              — | ≥ 1.6×  | met / met / —   | no ratio in every run |'
  ])
  t.strictSame(lines.slice(16), [
    '## Runs',
    '',
    '| run | date                     | load average (1 / 5 / 15 min) at start, at end         | run time    |',
    '| --- | ------------------------ | ------------------------------------------------------ | ----------- |',
    '| 1   | 2026-12-07T01:00:00.000Z | 0.10 / 0.20 / 0.30 at start, 1.00 / 1.00 / 1.00 at end | 16 min 40 s |',
    '| 2   | 2026-12-07T01:20:00.000Z | 0.10 / 0.20 / 0.30 at start, 1.00 / 1.00 / 1.00 at end | 16 min 41 s |',
    '| 3   | 2026-12-07T01:40:00.000Z | 0.10 / 0.20 / 0.30 at start, 1.00 / 1.00 / 1.00 at end | 16 min 42 s |',
    ''
  ])
})

test('renderRepeat: one run, a row without a spread', async (t) => {
  const run: ParsedRun = { info: { date: 'd', loadAverage: 'l', runTime: 'r' }, rows: [{ name: 'a', ratio: 1.5, spread: '', goal: '', verdict: '' }] }
  const text = renderRepeat([run], 'node dist/bench/repeat.js')
  t.match(text, 'The whole bench, run 1 time in a row')
  t.match(text, '| a   |  1.50 | 0.00 (0.0 %) |              — |      |          | — (one run)         |')
  t.match(text, 'Rows with a goal that repeat within ±5 %: 0 of 0; every row: 0 of 1.')
})
