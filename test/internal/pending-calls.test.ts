import { test } from 'tap'
import { PendingCalls, type DeadlineEntry } from '../../plugins/internal/pending-calls.js'

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const never = new Promise<never>(() => {})
const outcome = async (promise: Promise<unknown>): Promise<string> => await promise.then((v) => `value ${String(v)}`, (e: Error) => `error ${e.message}`)

interface Call extends DeadlineEntry { reject: (err: Error) => void, message: string }

/** `promise`, or a rejection with `message` once `ms` have passed: how the session stores bound their backend calls. */
function bounder (): { calls: PendingCalls<Call>, bound: <T>(promise: Promise<T>, ms: number, message: string) => Promise<T> } {
  const calls = new PendingCalls<Call>((call) => { call.reject(new Error(call.message)) })
  const bound = async <T>(promise: Promise<T>, ms: number, message: string): Promise<T> => await new Promise<T>((resolve, reject) => {
    const id = calls.add({ deadline: performance.now() + ms, reject, message })
    promise.then((value) => { if (calls.take(id) !== undefined) resolve(value) }, (err: Error) => { if (calls.take(id) !== undefined) reject(err) })
  })
  return { calls, bound }
}

test('one timer bounds every call, each failing at its own deadline, in any order of deadlines', async (t) => {
  const { bound } = bounder()
  const started = performance.now()
  const first = bound(never, 60, 'first timed out')
  await sleep(30)
  const second = bound(never, 60, 'second timed out')
  const sooner = bound(never, 10, 'sooner timed out')
  const answered = bound(Promise.resolve('ok'), 60, 'never')
  const failed = bound(Promise.reject(new Error('backend down')), 60, 'never')
  t.equal(await outcome(answered), 'value ok', 'an answer in time')
  t.equal(await outcome(failed), 'error backend down', 'a failure in time')
  const order: string[] = []
  const firstFailed = first.catch(() => { order.push('first') })
  const soonerFailed = sooner.catch(() => { order.push('sooner') })
  t.equal(await outcome(sooner), 'error sooner timed out', 'a later call with an earlier deadline')
  await Promise.all([firstFailed, soonerFailed])
  // a timer that fires late (a busy machine) finds both past their deadline: still in that order
  t.strictSame(order, ['sooner', 'first'], 'fails before the first')
  t.equal(await outcome(first), 'error first timed out')
  const firstAt = performance.now() - started
  t.ok(firstAt >= 59, `the first after its 60 ms (${firstAt.toFixed(0)} ms)`)
  t.equal(await outcome(second), 'error second timed out')
  const secondAt = performance.now() - started
  t.ok(secondAt >= 89, `the second 60 ms after it started, 30 ms later (${secondAt.toFixed(0)} ms)`)
})

test('an answer after the deadline changes nothing', async (t) => {
  const { bound } = bounder()
  let answer!: (value: string) => void
  let fail!: (err: Error) => void
  const late = bound(new Promise<string>((resolve) => { answer = resolve }), 20, 'timed out')
  const lateFailure = bound(new Promise<string>((_resolve, reject) => { fail = reject }), 20, 'timed out too')
  t.equal(await outcome(late), 'error timed out')
  t.equal(await outcome(lateFailure), 'error timed out too')
  answer('too late')
  fail(new Error('too late'))
  await sleep(5)
  t.equal(await outcome(late), 'error timed out', 'still the timeout')
})

test('the timer exists only while a call is pending', async (t) => {
  const { calls, bound } = bounder()
  const before = timers()
  let answer!: () => void
  const pending = bound(new Promise<void>((resolve) => { answer = resolve }), 60_000, 'never')
  t.equal(timers(), before + 1, 'one timer while pending')
  const other = bound(Promise.resolve(), 60_000, 'never')
  t.equal(timers(), before + 1, 'still one for two calls')
  await other
  t.strictSame([timers(), calls.size], [before + 1, 1], 'one call still pending')
  answer()
  await pending
  t.equal(timers(), before, 'none pending: the process may exit')
  t.equal(calls.take(12345), undefined, 'an unknown id is nothing')
})

test('many answered calls are dropped from the front; takeAll empties it', async (t) => {
  const { calls, bound } = bounder()
  const answers: Array<() => void> = []
  const all = Array.from({ length: 2000 }, () => bound(new Promise<void>((resolve) => { answers.push(resolve) }), 30, 'timed out'))
  // the oldest 1500 answer, one by one: the queue drops them; the rest time out
  for (const answer of answers.slice(0, 1500)) answer()
  const outcomes = await Promise.all(all.map(outcome))
  t.equal(outcomes.filter((o) => o === 'value undefined').length, 1500, 'answered in time')
  t.equal(outcomes.filter((o) => o === 'error timed out').length, 500, 'the rest timed out')

  const waiting = [calls.add({ deadline: performance.now() + 60_000, reject: () => {}, message: 'a' }), calls.add({ deadline: performance.now() + 60_000, reject: () => {}, message: 'b' })]
  const before = timers()
  t.strictSame(calls.takeAll().map((c) => c.message), ['a', 'b'])
  t.equal([calls.size, timers()].join(), [0, before - 1].join(), 'nothing left, no timer')
  t.equal(calls.take(waiting[0] as number), undefined, 'taken already')
  const next = calls.add({ deadline: performance.now() + 60_000, reject: () => {}, message: 'c' })
  t.ok(next > (waiting[1] as number), 'ids keep counting up')
  calls.takeAll()
})
