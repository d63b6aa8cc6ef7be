// soak/REPORT.md from a run's records and verdict.
import type { RequestRecord } from './load.js'
import { failureCause, type SoakEvent, type Verdict } from './verdict.js'

export interface RunInfo {
  date: string
  node: string
  minutes: number
  users: number
  workers: number
  store: string
  /** the picture's file name, beside the report */
  chart: string
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const percentile = (sorted: number[], p: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number

function protocolRows (records: readonly RequestRecord[]): string[] {
  return (['h2', 'http/1.1'] as const).map((protocol) => {
    const mine = records.filter((r) => r.protocol === protocol)
    const ms = mine.filter((r) => r.failure === null).map((r) => r.ms).sort((a, b) => a - b)
    return `| ${protocol} | ${mine.length} | ${mine.filter((r) => r.failure !== null).length} | ${percentile(ms, 0.5).toFixed(1)} | ${percentile(ms, 0.99).toFixed(1)} |`
  })
}

/** Failures grouped by the second they happened in: `[second, "3 × ECONNRESET (POST /login), …"]`. */
function bySecond (records: readonly RequestRecord[]): Array<[number, string]> {
  const seconds = new Map<number, Map<string, number>>()
  for (const r of records) {
    const second = Math.floor(r.at / 1000)
    const kinds = seconds.get(second) ?? new Map<string, number>()
    const kind = `${r.failure as string} (${r.protocol} ${r.route}, worker ${r.pid ?? '?'})`
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    seconds.set(second, kinds)
  }
  return [...seconds].map(([second, kinds]) => [second, [...kinds].map(([kind, n]) => `${n} × ${kind}`).join(', ')])
}

export function soakReport (info: RunInfo, records: readonly RequestRecord[], events: readonly SoakEvent[], result: Verdict): string {
  const unexplained = records.filter((r) => r.failure !== null && failureCause(r, events, result.options) === 'unexplained')
  const failedBy = new Map<string, number>()
  for (const r of records) if (r.failure !== null) failedBy.set(r.failure, (failedBy.get(r.failure) ?? 0) + 1)
  const lines = [
    '# Soak report',
    '',
    `**${result.passed ? 'Passed' : 'Did not pass'}.** ${info.minutes} min on ${info.date}, Node ${info.node}: the demo app with ${info.workers} workers, sessions in ${info.store}, ${info.users} users (half on HTTP/2, half on HTTP/1.1, each over TLS) logging in, reading their session and logging out; a rolling restart every minute, a worker killed with \`kill -9\` every two minutes, Redis stopped once. Written by \`npm run soak\`.`,
    '',
    ...(result.passed ? [] : ['Why:', '', ...result.reasons.map((r) => `- ${r}`), '']),
    `![requests, failures, RSS, heap and descriptors over time](${info.chart})`,
    '',
    '## Requests',
    '',
    '| protocol | requests | failed | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    ...protocolRows(records),
    '',
    `Failed requests by cause: Redis down ${result.failures['redis down']} (the last ${result.redisRecoveryMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} after it was back: the store's breaker cool-down and the client's reconnection), on a killed worker's connections ${result.failures['killed worker']}, anything else ${result.failures.unexplained} (must be 0). ` +
      `${result.retried} requests were sent again on a new connection because the server had closed the old one without reading them (an HTTP/2 \`REFUSED_STREAM\`, or an HTTP/1.1 keep-alive socket closed as the request went out); every HTTP client does this.`,
    '',
    ...(failedBy.size === 0 ? [] : ['| failure | count |', '|---|---:|', ...[...failedBy].sort((a, b) => b[1] - a[1]).map(([what, n]) => `| ${what} | ${n} |`), '']),
    ...(unexplained.length === 0 ? [] : ['The failures no event explains, by second (the first 20 seconds with any):', '', ...bySecond(unexplained).slice(0, 20).map(([second, what]) => `- ${second} s: ${what}`), '']),
    '## Sessions',
    '',
    result.problems.length === 0
      ? 'No logged-in session answered 401, no view count went wrong, and no logged-out cookie was let in again, across every restart, kill and the Redis outage.'
      : `${result.problems.length} problems; the first ones:\n\n${result.problems.slice(0, 20).map((p) => `- ${(p.at / 1000).toFixed(1)} s, ${p.user}: ${p.what}`).join('\n')}`,
    '',
    '## Memory and descriptors after warm-up',
    '',
    'Medians of the first and the last fifth of the samples after warm-up. The workers are judged together (their sum at each moment, leaving out moments when one is less than 20 s old): each is replaced every minute, and its share of the connections changes each time.',
    '',
    '| process | measure | first | last | growth | flat (< 10 %) |',
    '|---|---|---:|---:|---:|---|',
    ...result.growths.map((g) => `| ${g.name} | ${g.measure} | ${g.measure === 'fds' ? g.first : mb(g.first)} | ${g.measure === 'fds' ? g.last : mb(g.last)} | ${(g.growth * 100).toFixed(1)} % | ${g.flat ? 'yes' : '**no**'} |`),
    '',
    '## Events',
    '',
    events.map((e) => `${(e.at / 1000).toFixed(0)} s ${e.kind}${e.pid === undefined ? '' : ` (pid ${e.pid})`}`).join(' · '),
    ''
  ]
  return lines.join('\n')
}
