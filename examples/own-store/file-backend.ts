// A session backend of your own: sessions as files in a folder, one per id, each with its expiry.
// `new BackendStore(new FileBackend(dir))` makes it a store for @fastify/session; the store adds the
// rest (serialization, expiry from the cookie, timeouts, write elision). Run it through
// `fastify-fleet/session/conformance` like any store (test/session/own-store.test.ts does).
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SessionBackend, StoredSession } from 'fastify-fleet/session'

export class FileBackend implements SessionBackend {
  #writes = 0

  constructor (private readonly dir: string, private readonly now: () => number = Date.now) {}

  // a session id is a bearer secret chosen by the client: hex-encoded, it cannot name another path
  #path (sid: string): string { return join(this.dir, Buffer.from(sid).toString('hex')) }

  async read (sid: string): Promise<StoredSession | null> {
    const text = await readFile(this.#path(sid), 'utf8').catch(() => null)
    if (text === null) return null
    const [expiry, ...rest] = text.split('\n')
    return { text: rest.join('\n'), expiresAt: Number(expiry) }
  }

  // written to a temporary file (in a folder beside, so that ids() never sees it), then renamed
  // over the session's: a reader never sees half a write, and of two writes at once, one wins whole
  async write (sid: string, text: string, expiresAt: number): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    await mkdir(`${this.dir}.writing`, { recursive: true })
    const temporary = join(`${this.dir}.writing`, `${process.pid}-${++this.#writes}`)
    await writeFile(temporary, `${expiresAt}\n${text}`)
    await rename(temporary, this.#path(sid))
  }

  async refresh (sid: string, expiresAt: number): Promise<boolean> {
    const entry = await this.read(sid)
    if (entry === null) return false
    await this.write(sid, entry.text, expiresAt)
    return true
  }

  async remove (sid: string): Promise<void> { await rm(this.#path(sid), { force: true }) }

  async ids (): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const live: string[] = []
    for (const name of names) {
      const sid = Buffer.from(name, 'hex').toString()
      const entry = await this.read(sid)
      if (entry !== null && Number(entry.expiresAt) > this.now()) live.push(sid)
    }
    return live
  }

  async clear (): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
    await rm(`${this.dir}.writing`, { recursive: true, force: true })
  }

  close (): void {}
}
