/**
 * Runs `examples/multi-host` (the launcher, nginx and three app hosts) for a test, on free ports,
 * and talks to it like a browser through nginx. Without nginx or the loopback address 127.0.0.11,
 * `launch()` applies the services policy (fails with CI=true, skips otherwise).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { nginxCommand } from '../../examples/multi-host/config.js'
import { h1Request, h2Request, type ClientResponse, type RequestOptions } from './clients.js'
import { isAlive, msg, startFixture, waitGone, type FixtureProcess, type LogLine } from './fixture-process.js'
import { freePort } from './ports.js'
import { unavailable } from './services.js'

export const MAIN = fileURLToPath(new URL('../../examples/multi-host/main.ts', import.meta.url))
export const HOSTS = { '127.0.0.11': 'app-1', '127.0.0.12': 'app-2', '127.0.0.13': 'app-3' } as Record<string, string>

// the development certificate's cache, one per test process
let cacheHome: string | undefined
/** XDG_CACHE_HOME for the launchers of this test process (removed when it exits). */
export function cacheDir (): string {
  if (cacheHome === undefined) {
    const dir = cacheHome = mkdtempSync(join(tmpdir(), 'fleet-multi-host-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return cacheHome
}

/** Why this machine cannot run the example (no nginx, no 127.0.0.11), or `null`. */
export async function missing (): Promise<string | null> {
  const nginx = nginxCommand(process.env)
  const version = spawnSync(nginx, ['-v'])
  if (version.error !== undefined) return `nginx cannot be run (${nginx}): ${version.error.message}`
  try {
    await freePort('127.0.0.11')
  } catch (err) {
    return `no loopback address 127.0.0.11: ${(err as Error).message}`
  }
  return null
}

/** PIDs whose parent is `pid` (nginx's worker processes). */
export function childrenOf (pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try {
      return readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(pid)
    } catch {
      return false
    }
  }).map(Number)
}

/** The launcher's own lines (it passes on the hosts' lines too, with their pid and `host`). */
export const own = (fx: FixtureProcess, text: string) => (line: LogLine): boolean => msg(text)(line) && line.pid === fx.pid && line.host === undefined

/** The exit code of a launcher, or a rejection after `ms`: every wait is bounded. */
export async function exitOf (fx: FixtureProcess, ms = 120_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms; output: ${JSON.stringify(fx.lines.slice(-20))}`)), ms) })
  try {
    return await Promise.race([fx.exit, late])
  } finally {
    clearTimeout(timer)
  }
}

export interface Launched {
  fx: FixtureProcess
  ready: LogLine
  origin: string
  port: number
  redirectPort: number
  appPort: number
}

/** Runs the launcher on free ports; teardown stops it with SIGTERM (bounded), then kills by pid what is left. */
export async function launch (tt: Test, env: Record<string, string> = {}): Promise<Launched | null> {
  const reason = await missing()
  if (reason !== null) return unavailable(tt, reason)
  const [port, redirectPort, appPort] = [await freePort(), await freePort(), await freePort('127.0.0.11')]
  // registered before startFixture's own teardown (SIGKILL), which runs after this one
  tt.teardown(async () => {
    if (isAlive(fx.pid)) fx.child.kill('SIGTERM')
    await exitOf(fx, 30_000).catch(() => {})
  })
  const fx = startFixture(tt, MAIN, {
    XDG_CACHE_HOME: cacheDir(),
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    READY_TIMEOUT: '120000',
    REDIS_URL: '',
    SESSION_SECRET: '',
    PORT: String(port),
    REDIRECT_PORT: String(redirectPort),
    APP_PORT: String(appPort),
    ...env
  })
  // a launcher that exits fails the wait at once
  const ready = await Promise.race([
    fx.waitFor(own(fx, 'ready'), 'the launcher', 300_000),
    fx.exit.then((code) => { throw new Error(`the launcher exited (${code}): ${JSON.stringify(fx.lines.slice(-5))}`) })
  ])
  for (const p of ready.processes as Array<{ name: string, pid: number }>) {
    fx.alsoKill(p.pid)
    // nginx's workers outlive a master killed with SIGKILL (holding its ports)
    if (p.name === 'nginx') for (const worker of childrenOf(p.pid)) fx.alsoKill(worker)
  }
  return { fx, ready, origin: ready.url, port, redirectPort, appPort }
}

/** A client keeping cookies like a browser; each response tells which host answered. */
export function browser (origin: string) {
  const jar = new Map<string, string>()
  return {
    jar,
    request: async (path: string, opts: RequestOptions & { h1?: boolean } = {}): Promise<ClientResponse & { host: string }> => {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
      const res = await (opts.h1 === true ? h1Request : h2Request)(origin, path, { ...opts, headers: { ...opts.headers, ...(cookie === '' ? {} : { cookie }) } })
      for (const line of [res.headers['set-cookie'] ?? []].flat()) {
        const [pair = ''] = line.split(';')
        const at = pair.indexOf('=')
        jar.set(pair.slice(0, at), pair.slice(at + 1))
      }
      const upstream = String(res.headers['x-fleet-upstream']).split(', ').pop() as string
      return { ...res, host: HOSTS[upstream.split(':')[0] as string] as string }
    }
  }
}

export const login = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' }

/** Every process the launcher started (and their workers) is gone once it exited. */
export async function stopsCleanly (tt: Test, run: Launched): Promise<void> {
  const pids = [
    ...(run.ready.processes as Array<{ pid: number }>).map((p) => p.pid),
    ...run.fx.lines.filter(msg('worker ready')).map((l) => l.workerPid as number),
    ...childrenOf((run.ready.processes as Array<{ name: string, pid: number }>).find((p) => p.name === 'nginx')?.pid as number)
  ]
  run.fx.child.kill('SIGTERM')
  tt.equal(await exitOf(run.fx), 0, 'exit code 0')
  tt.ok(run.fx.lines.some(own(run.fx, 'stopped')))
  const left = []
  for (const pid of pids) if (!(await waitGone(pid, 10_000))) left.push(pid)
  tt.same(left, [], 'no process left behind')
}
