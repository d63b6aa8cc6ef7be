/** Whether a plugin runs for development or for production. */
export type Mode = 'development' | 'production'

/** `'production'` when `NODE_ENV=production`, else `'development'`. */
export function resolveMode (env: NodeJS.ProcessEnv = process.env): Mode {
  return env.NODE_ENV === 'production' ? 'production' : 'development'
}
