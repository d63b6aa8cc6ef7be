import { test } from 'tap'
import { Deadlines } from '../../plugins/session/async-call.js'

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const never = new Promise<never>(() => {})
const outcome = async (promise: Promise<unknown>): Promise<string> => await promise.then((v) => `value ${String(v)}`, (e: Error) => `error ${e.message}`)

test('one timer bounds every call, each failing at its own deadline', async (t) => {
  const deadlines = new Deadlines(60)
  const started = performance.now()
  const first = deadlines.bound(never, () => new Error('first timed out'))
  await sleep(30)
  const second = deadlines.bound(never, () => new Error('second timed out'))
  const answered = deadlines.bound(Promise.resolve('ok'), () => new Error('never'))
  const failed = deadlines.bound(Promise.reject(new Error('backend down')), () => new Error('never'))
  t.equal(await outcome(answered), 'value ok', 'an answer in time')
  t.equal(await outcome(failed), 'error backend down', 'a failure in time')
  t.equal(await outcome(first), 'error first timed out')
  const firstAt = performance.now() - started
  t.ok(firstAt >= 59, `the first after its 60 ms (${firstAt.toFixed(0)} ms)`)
  t.equal(await outcome(second), 'error second timed out')
  const secondAt = performance.now() - started
  t.ok(secondAt >= 89, `the second 60 ms after it started, 30 ms later (${secondAt.toFixed(0)} ms)`)
})

test('an answer after the deadline changes nothing', async (t) => {
  const deadlines = new Deadlines(20)
  let answer!: (value: string) => void
  let fail!: (err: Error) => void
  const late = deadlines.bound(new Promise<string>((resolve) => { answer = resolve }), () => new Error('timed out'))
  const lateFailure = deadlines.bound(new Promise<string>((_resolve, reject) => { fail = reject }), () => new Error('timed out too'))
  t.equal(await outcome(late), 'error timed out')
  t.equal(await outcome(lateFailure), 'error timed out too')
  answer('too late')
  fail(new Error('too late'))
  await sleep(5)
  t.equal(await outcome(late), 'error timed out', 'still the timeout')
})

test('the timer holds the process only while a call is pending', async (t) => {
  const deadlines = new Deadlines(60_000)
  const before = timers()
  let answer!: () => void
  const pending = deadlines.bound(new Promise<void>((resolve) => { answer = resolve }), () => new Error('never'))
  t.equal(timers(), before + 1, 'one timer while pending')
  const other = deadlines.bound(Promise.resolve(), () => new Error('never'))
  t.equal(timers(), before + 1, 'still one for two calls')
  await other
  t.equal(timers(), before + 1, 'one call still pending')
  answer()
  await pending
  t.equal(timers(), before, 'none pending: the process may exit')
  const again = deadlines.bound(Promise.resolve(), () => new Error('never'))
  t.equal(timers(), before + 1, 'the armed timer holds it again for a new call')
  await again
  t.equal(timers(), before)
})

test('a timer that fires with nothing pending stops; many settled calls are dropped from the queue', async (t) => {
  const deadlines = new Deadlines(15)
  await deadlines.bound(Promise.resolve(), () => new Error('never'))
  await sleep(30)
  t.equal(await outcome(deadlines.bound(never, () => new Error('timed out'))), 'error timed out', 'a call after the timer stopped still times out')

  const answers: Array<() => void> = []
  const calls = Array.from({ length: 2000 }, () => deadlines.bound(new Promise<void>((resolve) => { answers.push(resolve) }), () => new Error('timed out')))
  // the oldest 1500 answer, one by one: the queue drops them; the rest time out
  for (const answer of answers.slice(0, 1500)) answer()
  const outcomes = await Promise.all(calls.map(outcome))
  t.equal(outcomes.filter((o) => o === 'value undefined').length, 1500, 'answered in time')
  t.equal(outcomes.filter((o) => o === 'error timed out').length, 500, 'the rest timed out')
})
