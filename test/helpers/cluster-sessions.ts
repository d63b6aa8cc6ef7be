import { fileURLToPath } from 'node:url'
import { msg, startFixture, type FixtureProcess } from './fixture-process.js'
import { freePort } from './ports.js'

const FIXTURE = fileURLToPath(new URL('../session/fixtures/cluster-sessions.ts', import.meta.url))

/** A worker of the cluster, as its primary announced it. */
export interface Worker { id: number, pid: number }

/**
 * Starts test/session/fixtures/cluster-sessions.ts (a startCluster() primary with two workers whose
 * sessions live in ClusterStore) and waits for both workers, given in the order of their ids.
 */
export async function startSessions (t: Parameters<typeof startFixture>[0]): Promise<{ cluster: FixtureProcess, workers: [Worker, Worker], origin: string }> {
  const port = await freePort()
  const cluster = startFixture(t, FIXTURE, { PORT: String(port) })
  const ready = await cluster.waitForCount(msg('fixture: ready'), 2, 'two workers', 60_000)
  const workers = ready.map((line) => ({ id: line.worker.id, pid: line.worker.pid }) as Worker).sort((a, b) => a.id - b.id)
  for (const w of workers) cluster.alsoKill(w.pid)
  return { cluster, workers: workers as [Worker, Worker], origin: `http://127.0.0.1:${port}` }
}

/** SIGTERM to the primary: it drains its workers and exits with 0. */
export async function stopSessions (t: { equal: (a: unknown, b: unknown, m: string, extra: object) => unknown }, cluster: FixtureProcess): Promise<void> {
  cluster.child.kill('SIGTERM')
  const code = await cluster.exit
  t.equal(code, 0, 'a clean stop', { log: code === 0 ? undefined : cluster.lines.filter((l) => l.level !== undefined || /exit/.test(String(l.msg))) })
}
