/**
 * A throwaway 3-master Redis Cluster on free loopback ports (`redis-server --cluster-enabled yes`,
 * joined with `redis-cli --cluster create`), stopped by the test's teardown. Only the processes it
 * spawned are ever signalled.
 */
import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { freePort, type RedisServerTest } from './redis-server.js'
import { probeService, unavailable } from './services.js'
import { scratchProcesses } from './processes.js'

const run = promisify(execFile)

/** A running cluster: the ports of its masters. */
export interface RedisClusterHandle {
  ports: number[]
}

/** Starts the cluster and waits for `cluster_state:ok` on every node; `null` (skip or fail) without redis-server/redis-cli. */
export async function startRedisCluster (t: RedisServerTest, size = 3): Promise<RedisClusterHandle | null> {
  try {
    await run('redis-cli', ['--version'])
  } catch (err) {
    return unavailable(t, `cannot run redis-cli: ${(err as Error).message}`)
  }
  const { dir, children } = await scratchProcesses(t, 'fleet-cluster-')
  const ports: number[] = []
  for (let i = 0; i < size; i++) {
    const port = await freePort()
    ports.push(port)
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir
    ], { stdio: 'ignore' })
    children.push(child)
  }
  for (const port of ports) {
    for (let tries = 0; !(await probeService('redis', `redis://127.0.0.1:${port}`, { timeout: 500 })).ok; tries++) {
      if (tries > 200) throw new Error(`cluster node on port ${port} did not start`)
      await sleep(25)
    }
  }
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
  for (const port of ports) {
    for (let tries = 0; ; tries++) {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info'])
      if (stdout.includes('cluster_state:ok')) break
      if (tries > 400) throw new Error(`cluster node on port ${port} never reached cluster_state:ok`)
      await sleep(25)
    }
  }
  return { ports }
}
