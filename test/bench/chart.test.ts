import { test } from 'tap'
import { CHART_COLORS, axisMax, chartPath, resultsChart } from '../../bench/lib/chart.js'
import type { RowResult, SideSummary } from '../../bench/lib/table.js'

const side = (rpsRuns: number[]): SideSummary =>
  ({ rps: rpsRuns[0] ?? Number.NaN, rpsRuns, p99Ms: Number.NaN, meanMs: Number.NaN, spread: Number.NaN, failures: 0, protocols: [], metrics: {} })

/** A row whose per-round ratios are `ratios` (anchor 1000 req/s every round). */
const row = (anchor: string, ratios: number[], goal?: number): RowResult => ({
  scenario: 'HSTS <h2> & co',
  anchor,
  protocol: 'h2',
  fleet: side(ratios.map((r) => r * 1000)),
  anchorSide: side(ratios.map(() => 1000)),
  goal
})

const met = row('met', [0.98, 0.99, 1.0], 0.97) // ratio 0.99, spread ±1.0 %
const missed = row('missed', [0.9, 0.91, 0.92], 0.97)
const noisy = row('noisy', [0.6, 1.2, 1.8], 0.97)
const plain = row('no goal', [1.2, 1.25, 1.3])
const far = row('far', [8, 9, 10], 5)
const broken: RowResult = { scenario: 'CORS', anchor: 'x', protocol: 'h1', error: 'not measured: h2load not installed', goal: 0.9 }
const oneRound = row('one round', [1.1], 0.9)

test('chartPath: the .svg next to the results file', async (t) => {
  t.equal(chartPath('bench/RESULTS.md'), 'bench/RESULTS.svg')
  t.equal(chartPath('/tmp/run-1.md'), '/tmp/run-1.svg')
  t.equal(chartPath('/tmp/results'), '/tmp/results.svg')
})

test('axisMax: the largest whisker end or goal rounded up to a half, from 1.5 to 3', async (t) => {
  t.equal(axisMax([]), 1.5)
  t.equal(axisMax([met, missed]), 1.5)
  t.equal(axisMax([plain]), 1.5, '1.25 × 1.04')
  t.equal(axisMax([noisy]), 2, '1.2 × (1 + 0.5)')
  t.equal(axisMax([row('goal', [1], 2.2)]), 2.5)
  t.equal(axisMax([far]), 3)
  t.equal(axisMax([broken, oneRound]), 1.5)
})

test('resultsChart: one bar per measured row coloured by verdict, the goal tick, the whisker, escaped names', async (t) => {
  const svg = resultsChart([met, missed, noisy, plain, far, broken, oneRound], '2026-12-06, 2 cores & Node <20>')
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1000" height="\d+"/)
  t.ok(svg.endsWith('</svg>\n'))
  t.match(svg, '2026-12-06, 2 cores &amp; Node &lt;20&gt; · black tick = goal')
  t.match(svg, '>HSTS &lt;h2&gt; &amp; co vs met</text>')
  t.notMatch(svg, '<h2>')
  const bars = svg.split('\n').filter((l) => l.startsWith('<rect x='))
  t.equal(bars.length, 6, 'no bar for the row without figures')
  t.strictSame(bars.map((b) => /fill="([^"]+)"/.exec(b)![1]),
    [CHART_COLORS.met, CHART_COLORS.missed, CHART_COLORS.noisy, CHART_COLORS.none, CHART_COLORS.noisy, CHART_COLORS.noisy])
  t.match(svg, '>0.99 ±1.0 % · goal ≥ 0.97× met</text>')
  t.match(svg, '>0.91 ±1.1 % · goal ≥ 0.97× missed</text>')
  t.match(svg, '>1.20 ±50.0 % · goal ≥ 0.97× noisy (±50.0 %)</text>')
  t.match(svg, '>1.25 ±4.0 %</text>')
  t.match(svg, '>9.00 ±11.1 % · goal ≥ 5× noisy (±11.1 %)</text>')
  t.match(svg, '>1.10 · goal ≥ 0.9× noisy (one round)</text>', 'no spread with one round')
  t.match(svg, `<text x="16" y="${64 + 5 * 40 + 30}" fill="${CHART_COLORS.noisy}">not measured: h2load not installed</text>`)
  t.equal(svg.split('stroke-width="2.5"').length - 1, 4, 'a goal tick on each measured row with a goal on the axis (none for 5× on a 3× axis)')
  t.equal(svg.split('stroke="#333333"').length - 1, 5, 'a whisker on each row with a spread')
  t.equal(svg.split('<path d="M').length - 1, 6, 'the five whiskers and the arrow of the cut bar')
  t.match(svg, /<path d="M720 \d+ l8 9 l-8 9 z"/, 'the bar past the axis end is cut at 3×')
  t.match(svg, '>3×</text>')
})

test('resultsChart: no rows, no subtitle', async (t) => {
  const svg = resultsChart([])
  t.match(svg, 'height="88"')
  t.match(svg, '<text x="16" y="38" fill="#555555">black tick = goal;')
  t.match(svg, '>1.5×</text>')
  t.notMatch(svg, '<rect x=')
})

test('resultsChart: a row whose ratio is missing says so', async (t) => {
  const svg = resultsChart([{ ...row('nan', [1]), anchorSide: side([0]) }])
  t.match(svg, '>no ratio</text>')
})
