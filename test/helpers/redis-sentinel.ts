/**
 * A throwaway Sentinel setup on free loopback ports: a master, a replica of it and one sentinel
 * watching them as `mymaster` (quorum 1, down after 500 ms), stopped by the test's teardown. Only
 * the processes it spawned are ever signalled.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { freePort, type RedisServerTest } from './redis-server.js'
import { probeService, unavailable } from './services.js'
import { scratchProcesses } from './processes.js'

const run = promisify(execFile)

export const SENTINEL_NAME = 'mymaster'

/** The running setup. */
export interface RedisSentinelHandle {
  master: number
  replica: number
  sentinel: number
  /** `redis-cli` against a port; its output. */
  cli: (port: number, ...args: string[]) => Promise<string>
  /** The port of the master the sentinel names now. */
  currentMaster: () => Promise<number>
  /** Sends `signal` to the redis-server of `port` (one this setup spawned), e.g. SIGSTOP / SIGCONT to freeze a replica. */
  signal: (port: number, signal: NodeJS.Signals) => void
}

async function until (what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await sleep(50)
  }
}

/**
 * Starts master, replica and sentinel, and waits until the replica is in sync and the sentinel sees
 * it; `null` (skipped, or failed with CI=true) without redis-server and redis-cli.
 */
export async function startRedisSentinel (t: RedisServerTest): Promise<RedisSentinelHandle | null> {
  try {
    await Promise.all([run('redis-server', ['--version']), run('redis-cli', ['--version'])])
  } catch (err) {
    return unavailable(t, `cannot run redis-server and redis-cli: ${(err as Error).message}`)
  }
  const { dir, children } = await scratchProcesses(t, 'fleet-sentinel-')
  const [master, replica, sentinel] = [await freePort(), await freePort(), await freePort()] as [number, number, number]
  const byPort = new Map<number, ChildProcess>()
  const server = (port: number, ...args: string[]): void => {
    const child = spawn('redis-server', args, { stdio: 'ignore' })
    children.push(child)
    byPort.set(port, child)
  }
  // a replica's first sync at once, not after the 5 s Redis waits for more replicas to share it
  const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0']
  server(master, '--port', String(master), ...base)
  server(replica, '--port', String(replica), ...base, '--replicaof', '127.0.0.1', String(master))
  const conf = join(dir, 'sentinel.conf')
  await writeFile(conf, [
    `port ${sentinel}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${master} 1`,
    `sentinel down-after-milliseconds ${SENTINEL_NAME} 500`,
    `sentinel failover-timeout ${SENTINEL_NAME} 5000`, ''
  ].join('\n'))
  server(sentinel, conf, '--sentinel')
  const cli = async (port: number, ...args: string[]): Promise<string> => (await run('redis-cli', ['-p', String(port), ...args])).stdout
  for (const port of [master, replica, sentinel]) {
    await until(`port ${port} answers`, async () => (await probeService('redis', `redis://127.0.0.1:${port}`, { timeout: 500 })).ok)
  }
  await until('the replica is in sync', async () => (await cli(replica, 'info', 'replication')).includes('master_link_status:up'))
  await until('the sentinel sees the replica', async () => (await cli(sentinel, 'sentinel', 'replicas', SENTINEL_NAME)).includes(String(replica)))
  const currentMaster = async (): Promise<number> => Number((await cli(sentinel, 'sentinel', 'get-master-addr-by-name', SENTINEL_NAME)).trim().split('\n')[1])
  const signal = (port: number, name: NodeJS.Signals): void => { (byPort.get(port) as ChildProcess).kill(name) }
  return { master, replica, sentinel, cli, currentMaster, signal }
}
