import { availableParallelism } from 'node:os'
import { test } from 'tap'
import { startCluster } from '../../plugins/cluster/index.js'
import { DEFAULTS, jsonLogger, normalizeOptions, RESTART_DEFAULTS } from '../../plugins/cluster/options.js'

const build = (): never => { throw new Error('not called') }
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`
  }
  return undefined
}

test('defaults', async (t) => {
  const opts = normalizeOptions({ build }, {})
  t.strictSame(opts.listen, { port: 3000, host: '127.0.0.1' })
  t.equal(opts.workers, availableParallelism())
  t.equal(opts.inProcess, availableParallelism() === 1)
  t.equal(opts.shutdownTimeout, DEFAULTS.shutdownTimeout)
  t.equal(opts.readyTimeout, 10000)
  t.equal(opts.heartbeatInterval, 1000)
  t.equal(opts.heartbeatTimeout, 10000)
  t.strictSame(opts.restart, RESTART_DEFAULTS)
  t.strictSame(opts.env, {})
  t.strictSame(opts.execArgv, [])
  t.equal(opts.signals, true)
  t.equal(await opts.onStop(), undefined)
  t.equal(opts.primary(), undefined, 'without primary, workers get shared: undefined')
  t.equal(typeof opts.logger.info, 'function')
})

test('workers: 1 and FLEET_CLUSTER=0 run in-process', async (t) => {
  t.equal(normalizeOptions({ build, workers: 1 }, {}).inProcess, true)
  t.equal(normalizeOptions({ build, workers: 4 }, { FLEET_CLUSTER: '0' }).inProcess, true)
  t.equal(normalizeOptions({ build, workers: 4 }, { FLEET_CLUSTER: '1' }).inProcess, false)
})

test('the caller\'s object is not touched', async (t) => {
  const input = Object.freeze({ build, listen: Object.freeze({ port: 8443 }), restart: Object.freeze({ factor: 2 }), env: Object.freeze({ A: 'b' }), execArgv: Object.freeze(['--max-old-space-size=512']) })
  const opts = normalizeOptions(input, {})
  t.strictSame(opts.execArgv, ['--max-old-space-size=512'])
  t.not(opts.execArgv, input.execArgv)
  t.strictSame(opts.listen, { port: 8443, host: '127.0.0.1' })
  t.equal(opts.restart.factor, 2)
  t.not(opts.env, input.env)
})

test('invalid options are refused with FST_FLEET_CLUSTER_INVALID_OPTION', async (t) => {
  const cases: Array<[unknown, string]> = [
    [null, 'options: expected an object, got null'],
    ['x', 'options: expected an object, got "x"'],
    [{ build, nope: 1 }, 'nope: unknown option'],
    [{}, 'build: expected a function, got undefined'],
    [{ build, listen: 8443 }, 'listen: expected an object, got 8443'],
    [{ build, listen: { port: 8443, path: '/x' } }, 'listen.path: unknown option'],
    [{ build, listen: { port: 70000 } }, 'listen.port: expected a whole number from 0 to 65535, got 70000'],
    [{ build, listen: { port: '80' } }, 'listen.port: expected a whole number from 0 to 65535, got "80"'],
    [{ build, listen: { host: '' } }, 'listen.host: expected a non-empty string, got ""'],
    [{ build, workers: 0 }, 'workers: expected a whole number from 1 to 1024, got 0'],
    [{ build, workers: 1.5 }, 'workers: expected a whole number from 1 to 1024, got 1.5'],
    [{ build, restart: 3 }, 'restart: expected an object, got 3'],
    [{ build, restart: { delay: 3 } }, 'restart.delay: unknown option'],
    [{ build, restart: { factor: 0.5 } }, 'restart.factor: expected a number ≥ 1, got 0.5'],
    [{ build, restart: { factor: Infinity } }, 'restart.factor: expected a number ≥ 1, got Infinity'],
    [{ build, restart: { initialDelay: 200, maxDelay: 100 } }, 'restart.maxDelay: must be at least restart.initialDelay (200), got 100'],
    [{ build, restart: { maxRestarts: 0 } }, 'restart.maxRestarts: expected a whole number from 1 to 2147483647, got 0'],
    [{ build, env: { A: 1 } }, 'env: expected an object of strings'],
    [{ build, env: [] }, 'env: expected an object of strings'],
    [{ build, execArgv: '--inspect' }, 'execArgv: expected an array of flags (strings starting with "-"), got "--inspect"'],
    [{ build, execArgv: ['--inspect', 'app.js'] }, 'execArgv: expected an array of flags (strings starting with "-"), got ["--inspect","app.js"]'],
    [{ build, execArgv: ['-'] }, 'execArgv: expected an array of flags (strings starting with "-"), got ["-"]'],
    [{ build, execArgv: [1] }, 'execArgv: expected an array of flags (strings starting with "-"), got [1]'],
    [{ build, signals: 'yes' }, 'signals: expected a boolean, got "yes"'],
    [{ build, onStop: 1 }, 'onStop: expected a function, got 1'],
    [{ build, primary: 'setup' }, 'primary: expected a function, got "setup"'],
    [{ build, logger: console.log }, 'logger: expected an object with info, warn and error functions'],
    [{ build, logger: { info () {}, warn () {} } }, 'logger: expected an object with info, warn and error functions'],
    [{ build, heartbeatInterval: 5 }, 'heartbeatInterval: expected a whole number from 10 to 2147483647, got 5'],
    [{ build, heartbeatInterval: 2000, heartbeatTimeout: 1000 }, 'heartbeatTimeout: must be at least heartbeatInterval (2000), got 1000'],
    [{ build, shutdownTimeout: 0 }, 'shutdownTimeout: expected a whole number from 1 to 2147483647, got 0'],
    [{ build, readyTimeout: -1 }, 'readyTimeout: expected a whole number from 1 to 2147483647, got -1']
  ]
  for (const [input, message] of cases) {
    t.equal(codeOf(() => normalizeOptions(input, {})), `FST_FLEET_CLUSTER_INVALID_OPTION: fastify-fleet/cluster: invalid option ${message}`, message)
  }
})

test('startCluster() rejects invalid options', async (t) => {
  await t.rejects(startCluster({ build, workers: 0 }), { code: 'FST_FLEET_CLUSTER_INVALID_OPTION' })
})

test('the default logger writes one JSON line per event with pino level numbers', async (t) => {
  const lines: string[] = []
  const logger = jsonLogger((line) => lines.push(line))
  logger.info({ worker: 1 }, 'worker ready')
  logger.warn({}, 'careful')
  logger.error({ code: 'X' }, 'broken')
  const parsed = lines.map((line) => JSON.parse(line))
  t.ok(lines.every((line) => line.endsWith('\n')))
  t.strictSame(parsed.map(({ level, pid, msg, worker, code }) => ({ level, pid, msg, worker, code })), [
    { level: 30, pid: process.pid, msg: 'worker ready', worker: 1, code: undefined },
    { level: 40, pid: process.pid, msg: 'careful', worker: undefined, code: undefined },
    { level: 50, pid: process.pid, msg: 'broken', worker: undefined, code: 'X' }
  ])
  t.equal(typeof parsed[0].time, 'number')
})

test('the default logger writes to standard output', async (t) => {
  const written: string[] = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string) => { written.push(chunk); return true }) as typeof process.stdout.write
  try {
    jsonLogger().info({}, 'hello')
  } finally {
    process.stdout.write = write
  }
  t.equal(JSON.parse(written[0] as string).msg, 'hello')
})
