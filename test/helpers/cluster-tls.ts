// Which worker of a TLS cluster answered, and with which certificate: for the tests of certificate
// reloads in a cluster (test/server/reload-cluster.test.ts, test/server/acme-cluster.test.ts).
import { h2Request } from './clients.js'
import { eventually } from './eventually.js'

/** One new HTTP/2 connection: which worker answered GET /pid, and the serial of the certificate it presented. */
export async function answer (port: number): Promise<{ pid: number, serial: string }> {
  const res = await h2Request(`https://127.0.0.1:${port}`, '/pid')
  return { pid: (JSON.parse(res.body) as { pid: number }).pid, serial: res.peer?.serialNumber as string }
}

/** Resolves once every worker in `pids` has presented `serial` on a new connection (30 s at most). */
export async function allPresent (port: number, pids: number[], serial: string): Promise<void> {
  const seen = new Set<number>()
  await eventually(async () => {
    const a = await answer(port)
    if (a.serial === serial) seen.add(a.pid)
    if (!pids.every((pid) => seen.has(pid))) throw new Error(`${serial} seen from ${[...seen].join(', ')} of ${pids.join(', ')}`)
  }, 30_000)
}
