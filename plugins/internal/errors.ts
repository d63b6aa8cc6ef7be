import createError, { type FastifyErrorConstructor } from '@fastify/error'

/** A coded error class: `new E(...formatArgs, { cause }?)`, `err.code === code`. */
export type FleetErrorConstructor<C extends string> = FastifyErrorConstructor<{ code: C, statusCode: number }, unknown[]>

/**
 * Defines a coded error with `@fastify/error`. `message` takes `%s` placeholders filled by the
 * constructor's arguments; a last argument `{ cause }` becomes the error's `cause`.
 */
export function defineError<C extends string> (
  code: C,
  message: string,
  statusCode = 500,
  Base: ErrorConstructor = Error
): FleetErrorConstructor<C> {
  return createError<C, number, unknown[]>(code, message, statusCode, Base)
}
