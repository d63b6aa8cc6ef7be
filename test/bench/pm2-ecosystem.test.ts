import { test } from 'tap'
import { childPids, ecosystemApp, ecosystemFile, parseJlist, parseRss, PM2_GRACEFUL } from '../../bench/pm2/ecosystem.js'

const opts = { name: 'fleet-bench', script: '/x/dist/bench/pm2/app.js', instances: 2, port: 41234, logDir: '/tmp/pm2-x' }

test('ecosystemApp: cluster mode, the graceful settings, the port in the environment, the logs in the folder', async (t) => {
  t.strictSame(ecosystemApp(opts), {
    name: 'fleet-bench',
    script: '/x/dist/bench/pm2/app.js',
    exec_mode: 'cluster',
    instances: 2,
    wait_ready: true,
    listen_timeout: 10_000,
    kill_timeout: 3000,
    merge_logs: true,
    out_file: '/tmp/pm2-x/fleet-bench.out.log',
    error_file: '/tmp/pm2-x/fleet-bench.err.log',
    env: { PORT: '41234' }
  })
  t.strictSame(PM2_GRACEFUL, { wait_ready: true, listen_timeout: 10_000, kill_timeout: 3000 })
})

test('ecosystemApp: Node.js flags of the instances as PM2\'s node_args, none without them', async (t) => {
  const flags = Object.freeze(['--initial-old-space-size=64'])
  const app = ecosystemApp({ ...opts, nodeArgs: flags })
  t.strictSame(app.node_args, ['--initial-old-space-size=64'])
  t.not(app.node_args, flags, 'a copy')
  t.strictSame(ecosystemApp({ ...opts, nodeArgs: [] }), ecosystemApp(opts), 'an empty list writes no node_args')
})

test('ecosystemFile: a CommonJS module exporting { apps: [app] }', async (t) => {
  const text = ecosystemFile(opts)
  t.match(text, /^module\.exports = \{\n/)
  t.ok(text.endsWith('}\n'))
  const module = { exports: {} as unknown }
  // eslint-disable-next-line no-new-func
  new Function('module', text)(module)
  t.strictSame(module.exports, { apps: [ecosystemApp(opts)] })
})

test('parseJlist: name, id, pid and status of each process, after whatever precedes the list', async (t) => {
  const list = [
    { name: 'fleet-bench', pm_id: 0, pid: 101, pm2_env: { status: 'online', exec_mode: 'cluster_mode' } },
    { name: 'fleet-bench', pm_id: 1, pid: 0, pm2_env: { status: 'stopped' } }
  ]
  t.strictSame(parseJlist(`[PM2] Spawning PM2 daemon\n${JSON.stringify(list)}\n`), [
    { name: 'fleet-bench', pmId: 0, pid: 101, status: 'online' },
    { name: 'fleet-bench', pmId: 1, pid: 0, status: 'stopped' }
  ])
  t.strictSame(parseJlist('[]'), [])
  t.strictSame(parseJlist('[{}]'), [{ name: 'undefined', pmId: Number.NaN, pid: Number.NaN, status: 'undefined' }])
  t.throws(() => parseJlist('[PM2] no daemon\n'), { message: 'pm2 jlist printed no list: [PM2] no daemon' })
})

test('parseRss: VmRSS in bytes, null without it', async (t) => {
  t.equal(parseRss('Name:\tnode\nVmHWM:\t  70000 kB\nVmRSS:\t   51200 kB\nRssAnon:\t 1 kB\n'), 51200 * 1024)
  t.equal(parseRss('Name:\tkthreadd\nState:\tS (sleeping)\n'), null)
})

test('childPids: the direct children, ascending', async (t) => {
  const stats = [{ pid: 10, ppid: 1 }, { pid: 12, ppid: 10 }, { pid: 11, ppid: 10 }, { pid: 13, ppid: 11 }]
  t.strictSame(childPids(10, stats), [11, 12])
  t.strictSame(childPids(13, stats), [])
})
