/** Pure statistics helpers for the bench harness. */

/** Median of the finite numbers in `values` (mean of the two middle ones for an even count); `NaN` when there are none. */
export function median (values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  const n = sorted.length
  if (n === 0) return Number.NaN
  const mid = Math.floor(n / 2)
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** `fleet / anchor`; `NaN` when either side is not a positive finite number. */
export function ratio (fleet: number, anchor: number): number {
  if (!Number.isFinite(fleet) || !Number.isFinite(anchor) || anchor <= 0 || fleet < 0) return Number.NaN
  return fleet / anchor
}

/**
 * Half the range of `values` relative to their median, as a fraction (±): 0.03 means
 * the runs spread ±3 % around the median. `NaN` with fewer than two finite values.
 */
export function spread (values: readonly number[]): number {
  const finite = values.filter(Number.isFinite)
  const m = median(finite)
  if (finite.length < 2 || !(m > 0)) return Number.NaN
  return (Math.max(...finite) - Math.min(...finite)) / 2 / m
}

/** Requests per second rounded to a whole number with thousands separators; `'—'` when not a number. */
export function formatRps (value: number): string {
  if (!Number.isFinite(value)) return '—'
  return Math.round(value).toLocaleString('en-US')
}

/** A ratio with two decimals (`'0.97'`); `'—'` when not a number. */
export function formatRatio (value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '—'
}

/** Any other figure (a scenario metric) with two decimals (`'2.00'`, `'0.01'`); `'—'` when not a number. */
export function formatFigure (value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '—'
}

/** Milliseconds: whole numbers as they are (`'2 ms'`), else three significant digits (`'1.23 ms'`, `'12.3 ms'`, `'123 ms'`). */
export function formatMs (value: number): string {
  if (!Number.isFinite(value)) return '—'
  if (Number.isInteger(value)) return `${value} ms`
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0
  return `${value.toFixed(digits)} ms`
}

/** A fraction as a `±` percentage (`'±3.1 %'`); `'—'` when not a number. */
export function formatSpread (value: number): string {
  return Number.isFinite(value) ? `±${(value * 100).toFixed(1)} %` : '—'
}

/** Seconds as `'1 min 23 s'` or `'42.0 s'`. */
export function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—'
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const total = Math.round(seconds)
  return `${Math.floor(total / 60)} min ${total % 60} s`
}

/**
 * The per-round ratios of a row: round `i`'s fleet figure over the anchor's figure from the same
 * round (`ratio()`, so `NaN` where either is missing); as long as the shorter list.
 */
export function roundRatios (fleet: readonly number[], anchor: readonly number[]): number[] {
  const n = Math.min(fleet.length, anchor.length)
  return Array.from({ length: n }, (_, i) => ratio(fleet[i]!, anchor[i]!))
}

/**
 * The order in which a round loads `servers` servers (index 0 is the fleet): odd rounds (1, 3, …)
 * fleet first (0, 1, …, n − 1), even rounds the reverse, so each pair of servers runs next to each
 * other in time equally often and neither always goes first.
 */
export function roundOrder (round: number, servers: number): number[] {
  const order = Array.from({ length: servers }, (_, i) => i)
  return round % 2 === 1 ? order : order.reverse()
}
