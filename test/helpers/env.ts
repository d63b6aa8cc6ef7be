// Sets environment variables for one test and puts the old values back when it ends.

/** The part of a tap test `withEnv` uses. */
interface Teardown { teardown: (fn: () => void) => void }

/** Sets `vars` in `process.env` until `t` ends (`undefined` deletes a variable). */
export function withEnv (t: Teardown, vars: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]))
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  t.teardown(() => { apply(saved) })
  apply(vars)
}
