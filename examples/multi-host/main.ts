import { ConfigError } from '../fleet-app/config.js'
import { APP_HOSTS, readMultiHostConfig } from './config.js'
import { startMultiHost, type MultiHost } from './launcher.js'

/**
 * `npm run example:multi-host`: the demo app on three hosts (127.0.0.11–13, plain HTTP/1.1) behind
 * the system's nginx (HTTPS, HTTP/2), sessions in Redis. SIGINT/SIGTERM stops all it started;
 * SIGHUP restarts each host's workers in turn. A host that exits is started again.
 */
const log = (msg: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(JSON.stringify({ time: Date.now(), pid: process.pid, msg, ...extra }) + '\n')
}

async function main (): Promise<void> {
  const config = readMultiHostConfig()
  // the signal that asked to stop, and what runs (once start-up is over)
  const state: { signal?: NodeJS.Signals, running?: MultiHost } = {}
  const finish = async (): Promise<void> => {
    await (state.running as MultiHost).stop()
    log('stopped')
    process.exit(0)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (state.signal !== undefined) return
    state.signal = signal
    log('stopping', { signal })
    // during start-up, stopping waits for it to end
    if (state.running !== undefined) finish() // stop() does not reject
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // SIGHUP: a rolling restart of each host in turn (once ready, and not while stopping)
  process.on('SIGHUP', () => {
    if (state.signal === undefined && state.running !== undefined) state.running.reload() // reload() does not reject
  })
  log('starting', { ...config })
  const running = state.running = await startMultiHost(config, log)
  if (state.signal !== undefined) return await finish()
  // the hosts report their own exits (and are started again); nginx and Redis are not
  for (const p of running.processes.filter((p) => !APP_HOSTS.some((h) => h.name === p.name))) {
    p.exited.then((code) => { if (state.signal === undefined) log(`${p.name} exited`, { name: p.name, processPid: p.pid, code }) })
  }
  log('ready', {
    url: running.url,
    redirect: config.redirectPort === 0 ? null : `http://127.0.0.1:${config.redirectPort}`,
    hosts: running.hosts,
    sessionStore: config.sessionStore,
    sticky: config.sticky,
    redis: running.redis,
    processes: running.processes.map((p) => ({ name: p.name, pid: p.pid })),
    stop: `Ctrl-C, or kill -TERM ${process.pid}`,
    restart: `kill -HUP ${process.pid}`
  })
  process.stdout.write(`\nfastify-fleet on ${APP_HOSTS.length} hosts behind nginx: ${running.url}\n` +
    running.hosts.map((h) => `  ${h.name}  ${h.url}  pid ${h.pid}\n`).join('') +
    `Restart the hosts' workers, one host at a time: kill -HUP ${process.pid}\n` +
    `Stop: Ctrl-C, or kill -TERM ${process.pid}\n\n`)
}

main().catch((err: Error) => {
  log(err instanceof ConfigError ? 'invalid configuration' : 'start-up failed', { err: err.message, code: (err as { code?: string }).code })
  process.exit(1)
})
