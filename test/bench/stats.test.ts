import { test } from 'tap'
import { formatDuration, formatFigure, formatMs, formatRatio, formatRps, formatSpread, median, ratio, roundOrder, roundRatios, spread } from '../../bench/lib/stats.js'

test('median: middle value of an odd count, mean of the two middle ones of an even count', async (t) => {
  t.equal(median([7]), 7)
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.equal(median([10, 20]), 15)
  t.equal(median([5, 5, 1, 9]), 5)
})

test('median: ignores non-finite values and leaves its input alone', async (t) => {
  const values = [5, Number.NaN, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3]
  t.equal(median(values), 3)
  t.equal(median([Number.NaN, 8, 2]), 5)
  t.same(values, [5, Number.NaN, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3])
})

test('median: NaN when there is no finite value', async (t) => {
  t.strictSame(median([]), Number.NaN)
  t.strictSame(median([Number.NaN]), Number.NaN)
  t.strictSame(median([Number.POSITIVE_INFINITY, Number.NaN]), Number.NaN)
})

test('ratio: fleet / anchor', async (t) => {
  t.equal(ratio(200, 100), 2)
  t.equal(ratio(97, 100), 0.97)
  t.equal(ratio(0, 100), 0)
})

test('ratio: NaN when the anchor is 0, negative or not finite, or the fleet side is negative or not finite', async (t) => {
  t.strictSame(ratio(100, 0), Number.NaN)
  t.strictSame(ratio(0, 0), Number.NaN)
  t.strictSame(ratio(100, -5), Number.NaN)
  t.strictSame(ratio(100, Number.NaN), Number.NaN)
  t.strictSame(ratio(100, Number.POSITIVE_INFINITY), Number.NaN)
  t.strictSame(ratio(-1, 100), Number.NaN)
  t.strictSame(ratio(Number.NaN, 100), Number.NaN)
  t.strictSame(ratio(Number.POSITIVE_INFINITY, 100), Number.NaN)
})

test('spread: half the range relative to the median', async (t) => {
  t.equal(spread([90, 100, 110]), 0.1)
  t.equal(spread([110, 90]), 0.1)
  t.equal(spread([100, 100, 100]), 0)
  t.equal(spread([95, Number.NaN, 105, 100]), 0.05)
})

test('spread: NaN with fewer than two finite values or a median that is not positive', async (t) => {
  t.strictSame(spread([]), Number.NaN)
  t.strictSame(spread([100]), Number.NaN)
  t.strictSame(spread([100, Number.NaN]), Number.NaN)
  t.strictSame(spread([0, 0]), Number.NaN)
  t.strictSame(spread([-10, 0, 5]), Number.NaN)
})

test('formatRps: whole requests per second with thousands separators', async (t) => {
  t.equal(formatRps(12345.6), '12,346')
  t.equal(formatRps(1234567), '1,234,567')
  t.equal(formatRps(999.4), '999')
  t.equal(formatRps(0), '0')
  t.equal(formatRps(Number.NaN), '—')
  t.equal(formatRps(Number.POSITIVE_INFINITY), '—')
})

test('formatRatio: two decimals', async (t) => {
  t.equal(formatRatio(0.974), '0.97')
  t.equal(formatRatio(1.256), '1.26')
  t.equal(formatRatio(2), '2.00')
  t.equal(formatRatio(Number.NaN), '—')
})

test('formatFigure: two decimals', async (t) => {
  t.equal(formatFigure(4.0312), '4.03')
  t.equal(formatFigure(2), '2.00')
  t.equal(formatFigure(0.004), '0.00')
  t.equal(formatFigure(Number.NaN), '—')
  t.equal(formatFigure(Number.POSITIVE_INFINITY), '—')
})

test('formatMs: whole numbers as they are, else three significant digits', async (t) => {
  t.equal(formatMs(2), '2 ms')
  t.equal(formatMs(0), '0 ms')
  t.equal(formatMs(1250), '1250 ms')
  t.equal(formatMs(1.234), '1.23 ms')
  t.equal(formatMs(0.5), '0.50 ms')
  t.equal(formatMs(12.34), '12.3 ms')
  t.equal(formatMs(123.4), '123 ms')
  t.equal(formatMs(Number.NaN), '—')
  t.equal(formatMs(Number.NEGATIVE_INFINITY), '—')
})

test('formatSpread: a ± percentage with one decimal', async (t) => {
  t.equal(formatSpread(0.031), '±3.1 %')
  t.equal(formatSpread(0), '±0.0 %')
  t.equal(formatSpread(0.1), '±10.0 %')
  t.equal(formatSpread(Number.NaN), '—')
})

test('formatDuration: seconds below a minute, then whole minutes and seconds', async (t) => {
  t.equal(formatDuration(0), '0.0 s')
  t.equal(formatDuration(42), '42.0 s')
  t.equal(formatDuration(3.25), '3.3 s')
  t.equal(formatDuration(59.9), '59.9 s')
  t.equal(formatDuration(60), '1 min 0 s')
  t.equal(formatDuration(83), '1 min 23 s')
  t.equal(formatDuration(119.4), '1 min 59 s')
  t.equal(formatDuration(119.6), '2 min 0 s')
  t.equal(formatDuration(3600), '60 min 0 s')
  t.equal(formatDuration(-1), '—')
  t.equal(formatDuration(Number.NaN), '—')
  t.equal(formatDuration(Number.POSITIVE_INFINITY), '—')
})

test('roundRatios: each round\'s fleet figure over the anchor\'s from the same round, as long as the shorter list', async (t) => {
  t.strictSame(roundRatios([100, 90, 120], [100, 100, 80]), [1, 0.9, 1.5])
  t.strictSame(roundRatios([100, 90], [50]), [2])
  t.strictSame(roundRatios([100, 90], [0, 45]), [Number.NaN, 2])
  t.strictSame(roundRatios([], [1]), [])
})

test('roundOrder: odd rounds fleet first, even rounds the reverse', async (t) => {
  t.strictSame(roundOrder(1, 3), [0, 1, 2])
  t.strictSame(roundOrder(2, 3), [2, 1, 0])
  t.strictSame(roundOrder(3, 2), [0, 1])
  t.strictSame(roundOrder(4, 2), [1, 0])
  t.strictSame(roundOrder(7, 1), [0])
})
