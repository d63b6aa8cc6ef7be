import fc from 'fast-check'
import { normalizeOptions, policySpec, type FleetCorsOptions } from '../../plugins/cors/options.js'
import { OriginDecisionCache } from '../../plugins/cors/origin-cache.js'
import { compilePolicy, type Policy } from '../../plugins/cors/policy.js'

/**
 * The seed of every property run: fixed (CI runs the same cases every time), `FC_SEED` to explore
 * others. On a failure fast-check prints the seed and the path of the shrunk counterexample; keep
 * the counterexample as an `examples` entry of the property it broke.
 */
export const SEED = Number(process.env.FC_SEED ?? 20261206)

/**
 * Runs `property` (sync or async) `numRuns` times from the fixed seed, the kept counterexamples
 * (`examples`) first, and asserts it held, with fast-check's report (seed, path, shrunk
 * counterexample) as the failure message; the run count shows in the passing line.
 */
export async function holds<T> (t: { ok: (value: unknown, message: string) => unknown }, name: string, property: fc.IRawProperty<T>, numRuns: number, examples: T[] = []): Promise<void> {
  const details = await fc.check(property, { seed: SEED, numRuns, examples })
  t.ok(!details.failed, details.failed ? `${name}\n${fc.defaultReportMessage(details) as string}` : `${name} (${details.numRuns} runs, seed ${SEED})`)
}

/** Any text: ASCII, full unicode (surrogates included), and control characters. */
export const anyText = (maxLength = 80): fc.Arbitrary<string> => fc.oneof(
  fc.string({ maxLength }),
  fc.string({ unit: 'binary', maxLength }),
  fc.string({ unit: fc.constantFrom('\r', '\n', '\0', '\t', ' ', '@', ':', '/', '\\', '[', ']', '.', '%', '#', '?', ','), maxLength })
)

/** Text a header value may hold on the wire (visible latin1, spaces and tabs): what `inject()` accepts. */
export const headerText = (maxLength = 80): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength })

/** Letters whose look or case mapping imitates ASCII: Cyrillic а/е/о/р/с, dotless ı, Kelvin K, long ſ, fullwidth, ß. */
export const HOMOGLYPHS = ['\u0430', '\u0435', '\u043e', '\u0440', '\u0441', '\u0131', '\u212a', '\u017f', '\uff41', '\u00df', '\u00e9'] as const

/**
 * Variants of `host` a client may send to pass for it or to smuggle another host past a check:
 * case, trailing dot, ports, userinfo, suffixes and prefixes, homoglyphs, control characters,
 * brackets, percent-encoding, and great length.
 */
export const hostVariant = (host: string, foreign = 'evil.com'): fc.Arbitrary<string> => fc.oneof(
  fc.constant(host),
  fc.constantFrom(host.toUpperCase(), `${host}.`, `${host}..`, `.${host}`, `${host}:`, `${host}:0`, `${host}:65536`,
    `${host}:80:80`, `a@${host}`, `${host}@${foreign}`, `${foreign}@${host}`, `${host}.${foreign}`, `${foreign}.${host}`,
    `${foreign}/${host}`, `${host}/${foreign}`, `${host}\\${foreign}`, `${host}\r\nHost: ${foreign}`, `${host}\0.${foreign}`,
    `${host} ${foreign}`, `${host}#${foreign}`, `${host}?${foreign}`, `[${host}]`, `%2e${host}`, host.replace('.', '%2e'),
    `${host}:443@${foreign}`, `${'a'.repeat(250)}.${host}`, `${host}.${'a'.repeat(300)}`),
  fc.tuple(fc.nat(host.length), fc.constantFrom(...HOMOGLYPHS)).map(([i, c]) => host.slice(0, i) + c + host.slice(i + 1)),
  fc.integer({ min: 1, max: 65535 }).map((port) => `${host}:${port}`),
  fc.tuple(fc.constantFrom('', '.', ':', '@', '/'), anyText(12)).map(([sep, text]) => host + sep + text),
  fc.tuple(anyText(12), fc.constantFrom('', '.', '@')).map(([text, sep]) => text + sep + host),
  fc.mixedCase(fc.constant(host))
)

/** Whether anything reached `Object.prototype` (a property run leaves it as it found it). */
export const polluted = (): boolean => Object.keys(Object.prototype).length > 0 || ({} as Record<string, unknown>).polluted !== undefined

/** A CORS policy compiled from plugin options, as `fleetCors` compiles its own (for decisions without an app). */
export function corsPolicy (options: FleetCorsOptions): Policy {
  const { policyInput, cache } = normalizeOptions(options)
  return compilePolicy(policySpec(policyInput, 'options').spec, new OriginDecisionCache(cache), cache.key)
}
