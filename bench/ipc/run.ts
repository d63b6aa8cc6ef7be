// The harness side of the IPC round-trip micro-benchmark: `bench/run.ts` runs it after the scenarios
// (unless `BENCH_ONLY` leaves it out), prints its section and appends it to RESULTS.md.
import type { ChildSection } from '../lib/child-section.js'
import { ipcSection, ipcVerdict, type IpcBenchResult, type IpcResultMessage } from './latency.js'

export { ipcSelected } from './latency.js'

/** A cluster (its primary and two workers) in `dist/bench/ipc/round-trip.js`, two minutes at most. */
export const IPC_SECTION: ChildSection<IpcBenchResult> = {
  label: 'ipc round trip',
  file: new URL('./round-trip.js', import.meta.url),
  deadlineSeconds: 120,
  resultOf: (message) => {
    const m = message as Partial<IpcResultMessage> | null
    return m?.type === 'ipc-result' ? m.result : undefined
  },
  render: (result) => ({ section: ipcSection({ result }), verdict: ipcVerdict(result.series, result.goalRounds) }),
  renderError: (error) => ipcSection({ error })
}
