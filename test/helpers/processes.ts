import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A scratch folder and a list for the child processes a test starts: when the test ends, every
 * listed process still running is killed (only those) and the folder removed.
 */
export async function scratchProcesses (t: { teardown: (fn: () => unknown) => unknown }, prefix: string): Promise<{ dir: string, children: ChildProcess[] }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const children: ChildProcess[] = []
  t.teardown(async () => {
    await Promise.all(children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }))
    await rm(dir, { recursive: true, force: true })
  })
  return { dir, children }
}
