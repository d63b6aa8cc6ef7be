import { stat } from 'node:fs/promises'

/** What one poll sees of a file: its identity, size and times, or the error code when it cannot be read. */
async function signature (path: string): Promise<string> {
  try {
    const s = await stat(path)
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`
  } catch (err) {
    return `missing:${String((err as NodeJS.ErrnoException).code)}`
  }
}

/**
 * Polls `paths` every `interval` ms and calls `onChange` when they have changed and then stayed the
 * same for one more poll, so files written one after the other are taken together. `stat` follows
 * symbolic links: a link switched to a new target (certbot's `live/` folder, a Kubernetes secret)
 * counts as a change. Polling, not `fs.watch`: a watch on a file follows its old inode when a
 * link or a rename replaces it. The timer is unref'd. Returns the function that stops it.
 */
export function watchFiles (paths: readonly string[], interval: number, onChange: () => void): () => void {
  let seen: string | undefined
  let changed = false
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const poll = async (): Promise<void> => {
    const now = (await Promise.all(paths.map(signature))).join('\n')
    if (stopped) return
    if (seen !== undefined && now !== seen) {
      changed = true
    } else if (changed) {
      changed = false
      onChange()
    }
    seen = now
    timer = setTimeout(poll, interval).unref()
  }
  poll()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
