/**
 * SENTINEL=1: a Redis master, a replica of it and one sentinel watching them, on free loopback
 * ports, for the hosts to find the master through (REDIS_SENTINELS, REDIS_SENTINEL_NAME).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, ManagedProcess, redisAnswers } from './processes.js'

/** The name the sentinel knows the master by (REDIS_SENTINEL_NAME for the hosts). */
export const SENTINEL_NAME = 'mymaster'

/** What started: the variables for the hosts, and each process's port by name. */
export interface SentinelSetup {
  env: { REDIS_SENTINELS: string, REDIS_SENTINEL_NAME: string }
  ports: { 'redis-master': number, 'redis-replica': number, 'redis-sentinel': number }
}

/** One command's reply from the Redis on 127.0.0.1:port (one that answered PING: errors are start-up errors). */
async function ask (port: number, command: string, ...args: string[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 })
  try {
    await client.connect()
    return await client.call(command, ...args)
  } finally {
    client.disconnect()
  }
}

/** `SENTINEL REPLICAS`: one flat field/value list a replica, as objects. */
const records = (reply: unknown): Array<Record<string, string>> => (reply as string[][]).map((fields) =>
  Object.fromEntries(fields.flatMap((value, i) => i % 2 === 0 ? [[value, fields[i + 1] as string]] : [])))

/**
 * Starts the master and its replica (no persistence), waits until the replica's link is up, then
 * the sentinel (quorum 1: it alone decides; the master is down after 1 s without an answer), and
 * waits until the sentinel has a working link to the replica: from then on, the master's death
 * promotes the replica. Each process goes into `started` as soon as it runs.
 */
export async function startSentinel (runDir: string, started: ManagedProcess[], timeout: number): Promise<SentinelSetup> {
  const ports = { 'redis-master': await freePort(), 'redis-replica': await freePort(), 'redis-sentinel': await freePort() }
  // a replica's first sync at once, not after the 5 s Redis waits for more replicas to share it
  const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0']
  const master = await ManagedProcess.start('redis-master', 'redis-server', ['--port', String(ports['redis-master']), ...base], { cwd: runDir })
  started.push(master)
  const replica = await ManagedProcess.start('redis-replica', 'redis-server', ['--port', String(ports['redis-replica']), ...base, '--replicaof', '127.0.0.1', String(ports['redis-master'])], { cwd: runDir })
  started.push(replica)
  await master.waitUntil(async () => await redisAnswers('127.0.0.1', ports['redis-master']), 'PONG', timeout)
  await replica.waitUntil(async () => await redisAnswers('127.0.0.1', ports['redis-replica']), 'PONG', timeout)
  await replica.waitUntil(async () => String(await ask(ports['redis-replica'], 'INFO', 'replication')).includes('master_link_status:up'), 'link to the master', timeout)

  // the sentinel rewrites this file as it learns (replicas, failovers): it lives in the run folder
  const conf = join(runDir, 'sentinel.conf')
  await writeFile(conf, [
    `port ${ports['redis-sentinel']}`,
    'bind 127.0.0.1',
    `dir ${runDir}`,
    `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${ports['redis-master']} 1`,
    `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
    `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
    ''
  ].join('\n'))
  const sentinel = await ManagedProcess.start('redis-sentinel', 'redis-server', [conf, '--sentinel'], { cwd: runDir })
  started.push(sentinel)
  await sentinel.waitUntil(async () => await redisAnswers('127.0.0.1', ports['redis-sentinel']), 'PONG', timeout)
  // it finds the replica in the master's INFO, then connects to it: flags `slave` alone (not `disconnected`)
  await sentinel.waitUntil(async () => records(await ask(ports['redis-sentinel'], 'SENTINEL', 'REPLICAS', SENTINEL_NAME))
    .some((r) => r.port === String(ports['redis-replica']) && r.flags === 'slave'), 'link to the replica', timeout)
  return { env: { REDIS_SENTINELS: `127.0.0.1:${ports['redis-sentinel']}`, REDIS_SENTINEL_NAME: SENTINEL_NAME }, ports }
}
