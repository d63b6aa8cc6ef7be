import { MemoryEntries, type MemoryEntry, type MemoryLimits } from './memory-entries.js'

/** The bus topic of the sessions kept by the primary. */
export const SESSION_TOPIC = 'fleet:session'

/** A request of a worker's `ClusterStore` to the primary. */
export type SessionRequest =
  | { op: 'read', store: string, sid: string }
  | { op: 'write', store: string, limits: MemoryLimits, sid: string, text: string, expiresAt: number }
  | { op: 'refresh', store: string, sid: string, expiresAt: number, now: number }
  | { op: 'remove', store: string, sid: string }
  | { op: 'ids', store: string, now: number }
  | { op: 'clear', store: string }

/** The answer to each request. */
export type SessionAnswer = MemoryEntry | boolean | string[] | null

/**
 * The primary's side of `ClusterStore`: one bounded set of entries per store name, made by the
 * first write to it, with the limits that write carries (every worker runs the same code, so they
 * agree; the other requests leave them out). Until then the store reads as empty. Sessions live as
 * long as the primary does.
 */
export function sessionHost (): (request: SessionRequest) => SessionAnswer {
  const stores = new Map<string, MemoryEntries>()
  const none = new MemoryEntries({ maxEntries: 1 })
  return (request) => {
    let entries = stores.get(request.store)
    if (entries === undefined) {
      if (request.op !== 'write') entries = none
      else stores.set(request.store, entries = new MemoryEntries(request.limits))
    }
    switch (request.op) {
      case 'read': return entries.read(request.sid) ?? null
      case 'write': return entries.write(request.sid, request.text, request.expiresAt)
      case 'refresh': return entries.refresh(request.sid, request.expiresAt, request.now)
      case 'remove': entries.remove(request.sid); return true
      case 'ids': return entries.ids(request.now)
      case 'clear': entries.clear(); return true
    }
  }
}
