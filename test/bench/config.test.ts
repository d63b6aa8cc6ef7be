import { test } from 'tap'
import { CONFIG_DEFAULTS, estimateSeconds, readConfig, selects } from '../../bench/lib/config.js'
import { errorOf } from '../helpers/errors.js'

/** The name and message of what `fn` throws, to compare exactly. */

const DEFAULTS = {
  duration: 2,
  rounds: 7,
  warmup: 1,
  connections: 10,
  streams: 10,
  only: undefined,
  results: 'bench/RESULTS.md'
}

test('CONFIG_DEFAULTS', async (t) => {
  t.strictSame(CONFIG_DEFAULTS, { duration: 2, rounds: 7, warmup: 1, connections: 10, streams: 10 })
})

test('readConfig: defaults without variables, or with blank ones', async (t) => {
  t.strictSame(readConfig({}), DEFAULTS)
  t.strictSame(readConfig({
    BENCH_DURATION: '',
    BENCH_ROUNDS: '  ',
    BENCH_WARMUP: '',
    BENCH_CONNECTIONS: ' ',
    BENCH_STREAMS: '',
    BENCH_ONLY: '  ',
    BENCH_RESULTS: ''
  }), DEFAULTS)
  t.strictSame(readConfig({}, 'elsewhere/RESULTS.md'), { ...DEFAULTS, results: 'elsewhere/RESULTS.md' })
})

test('readConfig: every variable, at the ends of its range, trimmed', async (t) => {
  t.strictSame(readConfig({
    BENCH_DURATION: '0.5',
    BENCH_ROUNDS: '50',
    BENCH_WARMUP: '0',
    BENCH_CONNECTIONS: '1000',
    BENCH_STREAMS: ' 1 ',
    BENCH_ONLY: ' hello ',
    BENCH_RESULTS: ' out/results.md '
  }), { duration: 0.5, rounds: 50, warmup: 0, connections: 1000, streams: 1, only: 'hello', results: 'out/results.md' })
  t.strictSame(readConfig({ BENCH_DURATION: '300', BENCH_ROUNDS: '1', BENCH_WARMUP: '60', BENCH_CONNECTIONS: '1', BENCH_STREAMS: '1000' }),
    { ...DEFAULTS, duration: 300, rounds: 1, warmup: 60, connections: 1, streams: 1000 })
  t.strictSame(readConfig({ BENCH_WARMUP: '0.5' }), { ...DEFAULTS, warmup: 0.5 })
})

test('readConfig: BENCH_RESULTS=none writes nothing', async (t) => {
  t.strictSame(readConfig({ BENCH_RESULTS: 'none' }), { ...DEFAULTS, results: undefined })
  t.strictSame(readConfig({ BENCH_RESULTS: ' none ' }, 'x.md'), { ...DEFAULTS, results: undefined })
})

test('readConfig: a value out of range or not a number is a RangeError naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ BENCH_DURATION: '0.4' }, 'BENCH_DURATION must be a number from 0.5 to 300, got "0.4"'],
    [{ BENCH_DURATION: '301' }, 'BENCH_DURATION must be a number from 0.5 to 300, got "301"'],
    [{ BENCH_DURATION: 'five' }, 'BENCH_DURATION must be a number from 0.5 to 300, got "five"'],
    [{ BENCH_DURATION: 'Infinity' }, 'BENCH_DURATION must be a number from 0.5 to 300, got "Infinity"'],
    [{ BENCH_ROUNDS: '0' }, 'BENCH_ROUNDS must be a whole number from 1 to 50, got "0"'],
    [{ BENCH_ROUNDS: '2.5' }, 'BENCH_ROUNDS must be a whole number from 1 to 50, got "2.5"'],
    [{ BENCH_ROUNDS: '51' }, 'BENCH_ROUNDS must be a whole number from 1 to 50, got "51"'],
    [{ BENCH_WARMUP: '-1' }, 'BENCH_WARMUP must be a number from 0 to 60, got "-1"'],
    [{ BENCH_WARMUP: '61' }, 'BENCH_WARMUP must be a number from 0 to 60, got "61"'],
    [{ BENCH_CONNECTIONS: '0' }, 'BENCH_CONNECTIONS must be a whole number from 1 to 1000, got "0"'],
    [{ BENCH_CONNECTIONS: '1.5' }, 'BENCH_CONNECTIONS must be a whole number from 1 to 1000, got "1.5"'],
    [{ BENCH_STREAMS: '1001' }, 'BENCH_STREAMS must be a whole number from 1 to 1000, got "1001"'],
    [{ BENCH_STREAMS: '10 streams' }, 'BENCH_STREAMS must be a whole number from 1 to 1000, got "10 streams"']
  ]
  for (const [env, message] of cases) {
    t.strictSame(errorOf(() => readConfig(env)), { name: 'RangeError', message }, message)
  }
})

test('readConfig: reads process.env by default', async (t) => {
  const saved = Object.entries(process.env).filter(([name]) => name.startsWith('BENCH_'))
  t.teardown(() => {
    for (const name of Object.keys(process.env)) if (name.startsWith('BENCH_')) delete process.env[name]
    for (const [name, value] of saved) process.env[name] = value
  })
  for (const [name] of saved) delete process.env[name]
  process.env.BENCH_ROUNDS = '9'
  process.env.BENCH_ONLY = 'hsts'
  t.strictSame(readConfig(), { ...DEFAULTS, rounds: 9, only: 'hsts' })
})

test('estimateSeconds: per server, one warm-up and the measured rounds', async (t) => {
  t.equal(estimateSeconds({ duration: 5, rounds: 3, warmup: 1 }, 2), 32)
  t.equal(estimateSeconds({ duration: 1, rounds: 1, warmup: 0 }, 3), 3)
  t.equal(estimateSeconds({ duration: 0.5, rounds: 4, warmup: 2 }, 1), 4)
  t.equal(estimateSeconds(readConfig({}), 0), 0)
  // the defaults: 7 rounds of 2 s after a 1 s warm-up, 15 s per server (3 rounds of 5 s took 16 s)
  t.equal(estimateSeconds(readConfig({}), 2), 30)
})

test('selects: BENCH_ONLY texts, comma-separated, matched in any name, any case', async (t) => {
  t.equal(selects(undefined, 'hsts.js'), true, 'no BENCH_ONLY: everything')
  t.equal(selects('HSTS', 'hsts.js', 'HSTS, HTTP/2'), true)
  t.equal(selects('hsts', 'cors.js', 'CORS simple GET'), false)
  t.equal(selects('hsts, cors ,pm2', 'cors.js'), true, 'any of several')
  t.equal(selects('hsts,cors', 'startCluster vs PM2'), false)
  t.equal(selects(',', 'anything'), false, 'only separators select nothing')
  t.equal(selects('pm2', 'cluster-pm2.js', 'startCluster vs PM2 cluster mode'), true)
})
