import { test } from 'tap'
import { readConfig, type BenchConfig } from '../../bench/lib/config.js'
import { describeMethod, renderReport, type MachineInfo } from '../../bench/lib/report.js'

/** The end of the rounds line, from "Ratio = ". */
const ROUNDS_REST = 'Ratio = fleet / anchor (above 1: fleet is faster), the median of the per-round ratios (each round\'s fleet req/s ' +
  'over the anchor\'s from the same round); ratio spread = half the range of the per-round ratios around their median. ' +
  'A row with a goal gets a verdict (met / missed) only when its ratio spread is at most ±5 %; otherwise it says noisy. ' +
  'The notes give each side\'s req/s spread (half the range of its rounds around their median). ' +
  'A scenario\'s own figures in the notes (e.g. Redis commands/request) are taken around each measured load and are ' +
  'medians of the rounds too (fleet / anchor).'

const DEFAULT_METHOD = [
  'Each server runs alone in its own child process (`node dist/bench/servers/<name>.js`, `logger: false`, ' +
    'listening on 127.0.0.1, a free port); the load generator runs in or from the harness process.',
  'Per scenario: one unmeasured 1 s warm-up load per server, then 7 rounds in which the fleet server and each anchor ' +
    'are loaded in turn, 2 s each: odd rounds fleet first (A B), even rounds the reverse (B A). req/s are the medians of the rounds. ' +
    ROUNDS_REST,
  'Server CPU µs/request (in the notes): the user + system CPU time of the server process and its children (a cluster\'s ' +
    'workers), read from `/proc/<pid>/stat` (10 ms ticks) before and after each measured load, over its successful requests; ' +
    'medians of the rounds. It does not count the load generator or a backend (Redis), and moves less than req/s from run ' +
    'to run on a shared machine.',
  'HTTP/2: `h2load -c 10 -m 10 -t 1 -D 2s https://127.0.0.1:PORT/…` (timing-based, so no `-n`); req/s is ' +
    'h2load\'s figure less the failed share; h2load reports no percentiles, so the notes give its mean time per request. ' +
    'Failed = h2load\'s failed requests (errored, timed out, 4xx/5xx) + 3xx responses.',
  'HTTP/1.1: autocannon (programmatic API) with 10 connections, pipelining 1, 2 s, TLS without certificate check ' +
    'and without ALPN (so an `allowHTTP1` server answers in HTTP/1.1); req/s = 2xx responses / duration; p99 is ' +
    'autocannon\'s latency histogram (whole milliseconds). Failed = connection errors and timeouts + non-2xx responses.',
  'Both load generator and server share this machine: compare ratios, not absolute figures, across machines.'
]

test('describeMethod: the default settings', async (t) => {
  t.strictSame(describeMethod(readConfig({})), DEFAULT_METHOD)
})

test('describeMethod: no warm-up, one round, the tools\' parameters', async (t) => {
  const config: BenchConfig = { duration: 0.5, rounds: 1, warmup: 0, connections: 2, streams: 4, only: undefined, results: undefined }
  const lines = describeMethod(config)
  t.equal(lines.length, 6)
  t.equal(lines[1], 'Per scenario: 1 round in which the fleet server and each anchor are loaded in turn, 0.5 s each: ' +
    'odd rounds fleet first (A B), even rounds the reverse (B A). req/s are the medians of the rounds. ' + ROUNDS_REST)
  t.equal(lines[2], DEFAULT_METHOD[2], 'the CPU figure')
  t.equal(lines[3], 'HTTP/2: `h2load -c 2 -m 4 -t 1 -D 0.5s https://127.0.0.1:PORT/…` (timing-based, so no `-n`); req/s is ' +
    'h2load\'s figure less the failed share; h2load reports no percentiles, so the notes give its mean time per request. ' +
    'Failed = h2load\'s failed requests (errored, timed out, 4xx/5xx) + 3xx responses.')
  t.equal(lines[4], 'HTTP/1.1: autocannon (programmatic API) with 2 connections, pipelining 1, 0.5 s, TLS without certificate check ' +
    'and without ALPN (so an `allowHTTP1` server answers in HTTP/1.1); req/s = 2xx responses / duration; p99 is ' +
    'autocannon\'s latency histogram (whole milliseconds). Failed = connection errors and timeouts + non-2xx responses.')
  t.strictSame([lines[0], lines[5]], [DEFAULT_METHOD[0], DEFAULT_METHOD[5]])
  t.equal(describeMethod({ ...config, warmup: 2, rounds: 2 })[1], 'Per scenario: one unmeasured 2 s warm-up load per server, then ' +
    '2 rounds in which the fleet server and each anchor are loaded in turn, 0.5 s each: ' +
    'odd rounds fleet first (A B), even rounds the reverse (B A). req/s are the medians of the rounds. ' + ROUNDS_REST)
})

test('renderReport: header, machine, results table, method', async (t) => {
  const machine: MachineInfo = {
    cores: 2,
    cpuModel: 'Test CPU @ 2.00GHz',
    node: 'v20.19.0',
    os: 'linux 6.1.0 x64',
    tools: ['autocannon 8.0.0', 'h2load nghttp2/1.52.0'],
    loadAverage: { start: [0.5, 1.25, 2], end: [3.456, 0, 0.1] }
  }
  const text = renderReport({
    machine,
    config: readConfig({}),
    date: new Date('2025-01-02T03:04:05.678Z'),
    elapsedSeconds: 119.6,
    table: '| scenario |\n| -------- |'
  })
  t.equal(text, [
    '# Benchmark results',
    '',
    '_Written by `npm run bench` (`bench/run.ts`); do not edit by hand._',
    '',
    '- Date: 2025-01-02T03:04:05.678Z',
    '- Machine: 2 cores (`os.availableParallelism()`), Test CPU @ 2.00GHz, linux 6.1.0 x64',
    '- Node: v20.19.0',
    '- Tools: autocannon 8.0.0, h2load nghttp2/1.52.0',
    '- Load average (1 / 5 / 15 min): 0.50 / 1.25 / 2.00 at start, 3.46 / 0.00 / 0.10 at end',
    '- Run time (without the build): 2 min 0 s',
    '',
    '## Results',
    '',
    '| scenario |',
    '| -------- |',
    '',
    '## Method',
    '',
    ...DEFAULT_METHOD.map((line) => `- ${line}`),
    ''
  ].join('\n'))
  t.ok(text.endsWith('across machines.\n'), 'ends with one newline')
  const withChart = renderReport({ machine, config: readConfig({}), date: new Date(0), elapsedSeconds: 1, table: '| t |', chart: 'RESULTS.svg' })
  t.match(withChart, '\n| t |\n\n![The ratio of each row, its spread and its goal](RESULTS.svg)\n\n## Method\n')
})
