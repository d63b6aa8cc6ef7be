/** The name and message of what `fn` throws, or `'no error'`: for exact assertions on thrown errors. */
export function errorOf (fn: () => unknown): { name: string, message: string } | 'no error' {
  try {
    fn()
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message }
  }
  return 'no error'
}
