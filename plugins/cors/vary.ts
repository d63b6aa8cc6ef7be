import type { FastifyReply } from 'fastify'

/** Adds `field` to the reply's `Vary` header unless it is there already (or `Vary: *`). */
export function appendVary (reply: FastifyReply, field: string): void {
  const current = reply.getHeader('vary')
  if (current === undefined) {
    reply.header('vary', field)
    return
  }
  const value = String(current)
  const lower = field.toLowerCase()
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase()
    if (name === lower || name === '*') return
  }
  reply.header('vary', `${value}, ${field}`)
}
