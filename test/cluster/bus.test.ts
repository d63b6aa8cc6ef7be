// The IPC bus in one process: two links wired back to back (each batch goes through JSON, as over
// the cluster's IPC channel, and arrives a turn later), the primary's hub with stand-in workers,
// and the standalone bus of a process that is not a worker.
import { EventEmitter, once } from 'node:events'
import type { Worker } from 'node:cluster'
import { test } from 'tap'
import { PrimaryBusHub } from '../../plugins/cluster/primary-bus.js'
import {
  BusLink, DEFAULT_BUS_TIMEOUT, isBatch, PRIMARY, Subscriptions, type Batch, type BusOrigin, type Envelope
} from '../../plugins/cluster/bus.js'
import { clusterBus, standaloneBus } from '../../plugins/cluster/process-bus.js'

const turn = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

/** What a promise settles with: `{ value }` or the rejection's name, code, message (and remote code, cause). */
async function outcome (promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    return { value: await promise }
  } catch (err) {
    const e = err as Error & { code?: string, remoteCode?: unknown }
    return {
      error: e.name,
      code: e.code,
      message: e.message,
      ...('remoteCode' in e ? { remoteCode: e.remoteCode } : {}),
      ...(e.cause === undefined ? {} : { cause: (e.cause as Error).message })
    }
  }
}

interface Side {
  link: BusLink
  subs: Subscriptions
  /** The batches this side posted (as the peer received them). */
  sent: Batch[]
  /** The broadcasts that reached this side: `[topic, data, origin]`. */
  heard: Array<[string, unknown, BusOrigin]>
  errors: unknown[]
}

/**
 * A primary's link to worker 3 and that worker's link to the primary. A batch is serialized when
 * posted (so what JSON refuses throws there, as `process.send` does) and delivered a turn later.
 */
function linked (): { primary: Side, worker: Side } {
  const make = (peer: BusOrigin, where: string, to: () => Side): Side => {
    const side: Side = { subs: new Subscriptions(), sent: [], heard: [], errors: [], link: undefined as unknown as BusLink }
    const post = (batch: Batch): void => {
      const text = JSON.stringify(batch)
      side.sent.push(JSON.parse(text))
      setImmediate(() => to().link.receive(JSON.parse(text)))
    }
    side.link = new BusLink(post, side.subs, peer, where,
      (topic, data, from) => side.heard.push([topic, data, from]), (err) => side.errors.push(err))
    return side
  }
  const primary: Side = make({ workerId: 3 }, 'primary', () => worker)
  const worker: Side = make(PRIMARY, 'worker 3', () => primary)
  return { primary, worker }
}

test('a request gets the answer of the handler on the other side, with the asker as origin', async (t) => {
  const { primary, worker } = linked()
  primary.subs.handle('echo', (data, from) => ({ data, from }))
  primary.subs.handle('later', async (data: number) => { await turn(); return data * 2 })
  worker.subs.handle('whoami', (data, from) => ({ data, from, where: 'worker' }))

  t.strictSame(await worker.link.request('echo', { x: [1, 'two'] }), { data: { x: [1, 'two'] }, from: { workerId: 3 } })
  t.equal(await worker.link.request('later', 21, { timeout: 1000 }), 42, 'an async handler')
  t.strictSame(await worker.link.request('echo', undefined), { from: { workerId: 3 } }, 'no data: the handler gets undefined')
  t.strictSame(await primary.link.request('whoami', 'hi'), { data: 'hi', from: { workerId: 0 }, where: 'worker' }, 'the other way round')
  t.equal(worker.link.pending, 0)
  t.equal(primary.link.pending, 0)
  t.equal(DEFAULT_BUS_TIMEOUT, 5000)
  t.strictSame(PRIMARY, { workerId: 0 })
  t.ok(Object.isFrozen(PRIMARY))
})

test('a failing handler: FST_FLEET_CLUSTER_BUS_REMOTE with its message, and its code as remoteCode', async (t) => {
  const { primary, worker } = linked()
  primary.subs.handle('coded', () => { throw Object.assign(new Error('nope'), { code: 'E_NOPE' }) })
  primary.subs.handle('rejects', async () => { throw new Error('went wrong') })
  primary.subs.handle('string', () => { throw 'just text' }) // eslint-disable-line no-throw-literal
  primary.subs.handle('null', () => { throw null }) // eslint-disable-line no-throw-literal
  t.strictSame(await outcome(worker.link.request('coded', undefined)), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_REMOTE', message: 'fastify-fleet/cluster: bus handler for "coded" failed: nope', remoteCode: 'E_NOPE'
  })
  t.strictSame(await outcome(worker.link.request('rejects', undefined)), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_REMOTE', message: 'fastify-fleet/cluster: bus handler for "rejects" failed: went wrong'
  }, 'no code: no remoteCode')
  t.strictSame(await outcome(worker.link.request('string', undefined)), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_REMOTE', message: 'fastify-fleet/cluster: bus handler for "string" failed: just text'
  })
  t.strictSame(await outcome(worker.link.request('null', undefined)), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_REMOTE', message: 'fastify-fleet/cluster: bus handler for "null" failed: null'
  })
  t.strictSame(worker.sent.at(-1)?.m, [{ k: 'q', i: 4, t: 'null' }])
  t.strictSame(primary.sent.at(-1)?.m, [{ k: 'r', i: 4, e: { message: 'null' } }], 'the error as it travels')
})

test('no handler: FST_FLEET_CLUSTER_BUS_NO_HANDLER naming the side that has none', async (t) => {
  const { primary, worker } = linked()
  t.strictSame(await outcome(worker.link.request('nobody', undefined)), {
    error: 'Error', code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER', message: 'fastify-fleet/cluster: no handler for bus topic "nobody" in the primary'
  })
  t.strictSame(await outcome(primary.link.request('nobody', undefined)), {
    error: 'Error', code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER', message: 'fastify-fleet/cluster: no handler for bus topic "nobody" in the worker 3'
  })
})

test('no answer within the timeout: FST_FLEET_CLUSTER_BUS_TIMEOUT; a late answer is dropped', async (t) => {
  const { primary, worker } = linked()
  let release!: (value: string) => void
  primary.subs.handle('slow', async () => await new Promise<string>((resolve) => { release = resolve }))
  const started = performance.now()
  t.strictSame(await outcome(worker.link.request('slow', null, { timeout: 30 })), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "slow" got no answer within 30 ms'
  })
  t.ok(performance.now() - started >= 29, 'it waited for the timeout')
  t.equal(worker.link.pending, 0, 'forgotten')
  release('late')
  await turn()
  await turn()
  t.strictSame(primary.sent.at(-1)?.m, [{ k: 'r', i: 1, d: 'late' }], 'the answer still travels')
  t.equal(worker.link.pending, 0)
  t.strictSame(worker.errors, [])
})

test('many calls: answers in any order reach their callers; each call fails at its own deadline, the earliest first', async (t) => {
  const { primary, worker } = linked()
  const held = new Map<number, (value: number) => void>()
  primary.subs.handle('held', async (n: number) => await new Promise<number>((resolve) => { held.set(n, resolve) }))
  primary.subs.handle('echo', (n: number) => n)
  const order: string[] = []
  const track = (label: string, promise: Promise<unknown>): Promise<Record<string, unknown>> => outcome(promise).then((o) => {
    order.push(label)
    return o
  })
  const started = performance.now()
  // deadlines out of order: a long one first, then shorter ones (each moves the one timer earlier)
  const long = track('long', worker.link.request('held', 0, { timeout: 60_000 }))
  const calls = Array.from({ length: 40 }, (_, n) => track(`held ${n + 1}`, worker.link.request('held', n + 1, { timeout: 60_000 })))
  const late = track('80 ms', worker.link.request('held', 100, { timeout: 80 }))
  const early = track('40 ms', worker.link.request('held', 101, { timeout: 40 }))
  const echoed = await Promise.all(Array.from({ length: 10 }, async (_, n) => await worker.link.request('echo', n)))
  t.strictSame(echoed, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'calls made later are answered while earlier ones wait')
  t.equal(worker.link.pending, 43)
  // answer the held calls from the last to the first but one, then the first
  for (let n = 40; n >= 2; n--) held.get(n)?.(n * 10)
  const answered = await Promise.all(calls.slice(1))
  t.strictSame(answered.map((o) => o.value), Array.from({ length: 39 }, (_, i) => (i + 2) * 10), 'each answer reaches its caller')
  held.get(1)?.(10)
  t.strictSame(await calls[0], { value: 10 })
  t.strictSame(await early, {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "held" got no answer within 40 ms'
  })
  t.ok(performance.now() - started >= 39, 'not before its deadline')
  t.strictSame(await late, {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "held" got no answer within 80 ms'
  })
  t.ok(performance.now() - started >= 79)
  t.ok(order.indexOf('40 ms') < order.indexOf('80 ms'), 'the earlier deadline fails first')
  t.equal(worker.link.pending, 1, 'the long call still waits')
  held.get(0)?.(-1)
  t.strictSame(await long, { value: -1 })
  t.equal(worker.link.pending, 0)
  // the late answers to the timed-out calls find nobody waiting, and take nobody else's place
  held.get(100)?.(100)
  held.get(101)?.(101)
  await turn()
  await turn()
  t.equal(await worker.link.request('echo', 7), 7, 'ids keep counting: a new call gets its own answer')
  t.strictSame(worker.errors, [])
})

test('close(): pending requests and later ones fail with FST_FLEET_CLUSTER_BUS_CLOSED, nothing more leaves', async (t) => {
  const { primary, worker } = linked()
  primary.subs.handle('hang', async () => await new Promise(() => {}))
  worker.subs.handle('echo', (data) => data)
  const first = outcome(worker.link.request('hang', undefined))
  const second = outcome(worker.link.request('hang', 2, { timeout: 60_000 }))
  await turn()
  await turn()
  t.equal(worker.link.pending, 2)
  const unsent = outcome(worker.link.request('hang', 3))
  worker.link.cast('news', 'queued before close')
  worker.link.close('the primary is gone')
  worker.link.close('a second reason is ignored')
  const closed = {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_CLOSED', message: 'fastify-fleet/cluster: bus request "hang" cannot be answered: the primary is gone'
  }
  t.strictSame(await first, closed)
  t.strictSame(await second, closed, 'its long timeout does not keep it waiting')
  t.strictSame(await unsent, closed, 'a request still in the queue')
  t.equal(worker.link.pending, 0)
  t.strictSame(await outcome(worker.link.request('hang', undefined)), closed, 'a request after close')
  worker.link.cast('news', 'after close')
  const sentBefore = worker.sent.length
  // the primary asks the closed worker: the handler runs, its answer stays here
  const asked = outcome(primary.link.request('echo', 'hello', { timeout: 50 }))
  t.strictSame(await asked, {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "echo" got no answer within 50 ms'
  })
  t.equal(worker.sent.length, sentBefore, 'nothing left the closed side')
  t.strictSame(worker.sent.map((b) => b.m.map((e) => e.k)), [['q', 'q']], 'only the two requests sent before close ever left')
  t.strictSame(primary.heard, [])
})

test('batching: what is sent in one turn leaves as one batch, in order; the answers come back as one', async (t) => {
  const { primary, worker } = linked()
  primary.subs.handle('double', (n: number) => n * 2)
  const answers = Promise.all([1, 2, 3].map(async (n) => await worker.link.request('double', n)))
  worker.link.cast('news', { n: 4 })
  worker.link.cast('news', { n: 5 }, { workerId: 7 })
  t.strictSame(worker.sent, [], 'nothing leaves before the end of the turn')
  t.strictSame(await answers, [2, 4, 6])
  t.strictSame(worker.sent, [{
    fleet: 1,
    m: [
      { k: 'q', i: 1, t: 'double', d: 1 },
      { k: 'q', i: 2, t: 'double', d: 2 },
      { k: 'q', i: 3, t: 'double', d: 3 },
      { k: 'b', t: 'news', d: { n: 4 } },
      { k: 'b', t: 'news', d: { n: 5 }, o: 7 }
    ]
  }])
  t.strictSame(primary.sent, [{ fleet: 1, m: [{ k: 'r', i: 1, d: 2 }, { k: 'r', i: 2, d: 4 }, { k: 'r', i: 3, d: 6 }] }])
  t.strictSame(primary.heard, [['news', { n: 4 }, { workerId: 3 }], ['news', { n: 5 }, { workerId: 7 }]],
    'a broadcast comes from the peer, or from the worker a relay names')
})

test('unsendable data fails only its own message: the others of the batch still leave', async (t) => {
  const { primary, worker } = linked()
  primary.subs.handle('echo', (data) => data)
  primary.subs.handle('bigint answer', () => ({ n: 10n }))
  const results = Promise.all([
    outcome(worker.link.request('echo', 1)),
    outcome(worker.link.request('echo', { n: 2n })),
    outcome(worker.link.request('echo', 3))
  ])
  worker.link.cast('news', 4n)
  worker.link.cast('news', 5)
  t.strictSame(await results, [
    { value: 1 },
    {
      error: 'FastifyError',
      code: 'FST_FLEET_CLUSTER_BUS_UNSENDABLE',
      message: 'fastify-fleet/cluster: bus message for "echo" cannot be sent: Do not know how to serialize a BigInt',
      cause: 'Do not know how to serialize a BigInt'
    },
    { value: 3 }
  ])
  t.ok(await worker.link.request('echo', 1n).catch((err: unknown) => err) instanceof TypeError, 'a TypeError')
  t.strictSame(worker.sent.map((b) => b.m), [
    [{ k: 'q', i: 1, t: 'echo', d: 1 }], [{ k: 'q', i: 3, t: 'echo', d: 3 }], [{ k: 'b', t: 'news', d: 5 }]
  ], 'the batch left one message at a time, without the culprits')
  t.equal(worker.errors.length, 1, 'an unsendable broadcast goes to onError')
  t.strictSame({ code: (worker.errors[0] as { code: string }).code, message: (worker.errors[0] as Error).message }, {
    code: 'FST_FLEET_CLUSTER_BUS_UNSENDABLE', message: 'fastify-fleet/cluster: bus message for "news" cannot be sent: Do not know how to serialize a BigInt'
  })
  t.strictSame(primary.heard, [['news', 5, { workerId: 3 }]])

  t.strictSame(await outcome(worker.link.request('bigint answer', undefined)), {
    error: 'FastifyError',
    code: 'FST_FLEET_CLUSTER_BUS_REMOTE',
    message: 'fastify-fleet/cluster: bus handler for "bigint answer" failed: the answer cannot be sent: Do not know how to serialize a BigInt',
    remoteCode: 'FST_FLEET_CLUSTER_BUS_UNSENDABLE'
  }, 'an answer that cannot travel becomes an error for the asker')
  t.equal(worker.link.pending, 0)
})

test('an unsendable request that timed out before its batch left fails once, by its timeout', async (t) => {
  const { worker } = linked()
  // a timer due before the end of the turn fires first: the request is forgotten when its batch fails
  const result = await new Promise<Promise<Record<string, unknown>>>((resolve) => setImmediate(() => {
    const pending = outcome(worker.link.request('echo', 1n, { timeout: 1 }))
    const end = performance.now() + 5
    while (performance.now() < end);
    resolve(pending)
  }))
  t.strictSame(await result, {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "echo" got no answer within 1 ms'
  })
  await turn()
  t.strictSame(worker.sent, [])
  t.strictSame(worker.errors, [])
})

test('an answer for an unknown request is ignored', async (t) => {
  const { worker } = linked()
  worker.link.receive({ fleet: 1, m: [{ k: 'r', i: 99, d: 'stray' }, { k: 'r', i: 98, e: { message: 'stray' } }] })
  t.equal(worker.link.pending, 0)
  t.strictSame(worker.errors, [])
})

test('Subscriptions: one handler per topic, unsubscribe functions, listeners that throw', async (t) => {
  const subs = new Subscriptions()
  const first = (): string => 'first'
  const off = subs.handle('topic', first)
  t.throws(() => subs.handle('topic', () => 'second'), new TypeError('fastify-fleet/cluster: bus topic "topic" already has a handler'))
  t.equal(subs.answer('topic', null, PRIMARY, 'process'), 'first', 'a handler\'s value comes back as it is')
  off()
  t.equal(subs.handlers.has('topic'), false)
  const offSecond = subs.handle('topic', () => 'second')
  off() // a stale unsubscribe leaves the new handler alone
  t.equal(subs.answer('topic', null, PRIMARY, 'process'), 'second')
  offSecond()
  t.throws(() => subs.answer('topic', null, PRIMARY, 'process'), { code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER' })

  const heard: string[] = []
  const errors: unknown[] = []
  const boom = new Error('listener failed')
  subs.on('news', (data: string, from) => heard.push(`a:${data}:${from.workerId}`))
  subs.on('news', () => { throw boom })
  const offC = subs.on('news', (data: string) => heard.push(`c:${data}`))
  subs.deliver('news', 'one', { workerId: 2 }, (err) => errors.push(err))
  t.strictSame(heard, ['a:one:2', 'c:one'], 'the listener after the throwing one still hears')
  t.strictSame(errors, [boom])
  offC()
  offC()
  subs.deliver('news', 'two', PRIMARY, (err) => errors.push(err))
  t.strictSame(heard, ['a:one:2', 'c:one', 'a:two:0'])
  subs.deliver('silence', 'three', PRIMARY, (err) => errors.push(err))
  t.equal(errors.length, 2)
  // a listener that unsubscribes another during delivery does not change who hears this broadcast
  const order: string[] = []
  let offLast = (): void => {}
  subs.on('x', () => { order.push('first'); offLast() })
  offLast = subs.on('x', () => order.push('last'))
  subs.deliver('x', null, PRIMARY, () => {})
  subs.deliver('x', null, PRIMARY, () => {})
  t.strictSame(order, ['first', 'last', 'first'])
})

test('isBatch tells the bus messages from the other messages of the channel', async (t) => {
  const ok: unknown[] = [{ fleet: 1, m: [] }, { fleet: 1, m: [{ k: 'b', t: 'x' }] as Envelope[] }]
  const not: unknown[] = [null, undefined, 'fleet', 1, [], { fleet: 1 }, { fleet: true, m: [] }, { fleet: 2, m: [] }, { fleet: 1, m: {} }, { cmd: 'NODE_CLUSTER' }]
  t.strictSame(ok.map(isBatch), [true, true])
  t.strictSame(not.map(isBatch), not.map(() => false))
})

/** A stand-in for a cluster worker as the primary sees it. */
class FakeWorker extends EventEmitter {
  connected = true
  sent: Batch[] = []
  failNextSend: Error | null = null
  constructor (readonly id: number) { super() }
  isConnected (): boolean { return this.connected }
  send (message: Batch, _handle: undefined, callback: (err: Error | null) => void): boolean {
    JSON.stringify(message)
    const err = this.failNextSend
    this.failNextSend = null
    if (err === null) this.sent.push(message)
    process.nextTick(callback, err)
    return true
  }
}

test('PrimaryBusHub: requests to a worker, answers to workers, broadcasts relayed to all with their origin', async (t) => {
  const errors: unknown[] = []
  const hub = new PrimaryBusHub((err) => errors.push(err))
  t.equal(hub.role, 'primary')
  const w1 = new FakeWorker(1)
  const w2 = new FakeWorker(2)
  hub.attach(w1 as unknown as Worker)
  hub.attach(w2 as unknown as Worker)

  hub.handle('echo', (data, from) => ({ data, from }))
  w1.emit('message', { fleet: 1, m: [{ k: 'q', i: 1, t: 'echo', d: 'hi' }] })
  w1.emit('message', 'not a bus message')
  w1.emit('message', { cmd: 'something else' })
  await turn()
  await turn()
  t.strictSame(w1.sent, [{ fleet: 1, m: [{ k: 'r', i: 1, d: { data: 'hi', from: { workerId: 1 } } }] }])

  const asked = hub.request(2, 'status', { q: 1 }, { timeout: 1000 })
  await turn()
  t.strictSame(w2.sent, [{ fleet: 1, m: [{ k: 'q', i: 1, t: 'status', d: { q: 1 } }] }])
  w2.emit('message', { fleet: 1, m: [{ k: 'r', i: 1, d: 'fine' }] })
  t.equal(await asked, 'fine')
  t.strictSame(await outcome(hub.request(9, 'status')), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_CLOSED', message: 'fastify-fleet/cluster: bus request "status" cannot be answered: there is no worker 9'
  })

  const heard: Array<[unknown, BusOrigin]> = []
  hub.on('news', (data, from) => heard.push([data, from]))
  hub.on('news', () => { throw new Error('a primary listener failed') })
  w1.sent = []
  w2.sent = []
  w2.emit('message', { fleet: 1, m: [{ k: 'b', t: 'news', d: 'from 2', o: 1 }] })
  hub.broadcast('news', 'from the primary')
  await turn()
  await turn()
  t.strictSame(w1.sent.flatMap((b) => b.m), [{ k: 'b', t: 'news', d: 'from 2', o: 2 }, { k: 'b', t: 'news', d: 'from the primary', o: 0 }],
    'a worker cannot speak for another: the origin is the link it came from')
  t.strictSame(w2.sent.flatMap((b) => b.m), w1.sent.flatMap((b) => b.m), 'the sender hears its own broadcast too')
  t.strictSame(heard, [['from 2', { workerId: 2 }], ['from the primary', { workerId: 0 }]])
  t.strictSame(errors.map((e) => (e as Error).message), ['a primary listener failed', 'a primary listener failed'])
})

test('PrimaryBusHub: a worker that is gone fails its pending requests and leaves the hub', async (t) => {
  const hub = new PrimaryBusHub(() => {})
  const closed = (topic: string, why: string): Record<string, unknown> => ({
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_CLOSED', message: `fastify-fleet/cluster: bus request "${topic}" cannot be answered: ${why}`
  })

  const exiting = new FakeWorker(1)
  hub.attach(exiting as unknown as Worker)
  const pending = outcome(hub.request(1, 'work'))
  await turn()
  exiting.emit('exit', 0, null)
  t.strictSame(await pending, closed('work', 'worker 1 exited'))
  t.strictSame(await outcome(hub.request(1, 'work')), closed('work', 'there is no worker 1'))
  exiting.emit('disconnect') // after exit: nothing more happens

  const disconnecting = new FakeWorker(2)
  hub.attach(disconnecting as unknown as Worker)
  const before = outcome(hub.request(2, 'work'))
  await turn()
  disconnecting.emit('disconnect')
  t.strictSame(await before, closed('work', 'worker 2 exited'))
  t.strictSame(await outcome(hub.request(2, 'work')), closed('work', 'there is no worker 2'))

  // disconnected, but the cluster has not said so yet: the send is not even tried
  const silent = new FakeWorker(3)
  hub.attach(silent as unknown as Worker)
  silent.connected = false
  t.strictSame(await outcome(hub.request(3, 'work')), closed('work', 'worker 3 is gone'))
  t.strictSame(silent.sent, [])

  // the channel fails the send
  const broken = new FakeWorker(4)
  hub.attach(broken as unknown as Worker)
  broken.failNextSend = new Error('write EPIPE')
  t.strictSame(await outcome(hub.request(4, 'work')), closed('work', 'worker 4 is gone (write EPIPE)'))
  hub.broadcast('news', 'nobody hears this')
  await turn()
  t.strictSame(broken.sent, [], 'a closed link sends nothing, broadcasts included')
})

test('standaloneBus: this process answers its own requests and hears its own broadcasts', async (t) => {
  const bus = standaloneBus()
  t.equal(bus.role, 'standalone')
  const offEcho = bus.handle('echo', (data, from) => ({ data, from }))
  t.strictSame(await bus.request('echo', [1]), { data: [1], from: { workerId: 0 } })
  const coded = Object.assign(new Error('nope'), { code: 'E_NOPE' })
  bus.handle('fail', () => { throw coded })
  t.equal(await bus.request('fail').catch((err: unknown) => err), coded, 'a handler\'s error as it is')
  t.strictSame(await outcome(bus.request('nobody')), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER', message: 'fastify-fleet/cluster: no handler for bus topic "nobody" in the process'
  })
  bus.handle('hang', async () => await new Promise(() => {}))
  const started = performance.now()
  t.strictSame(await outcome(bus.request('hang', null, { timeout: 20 })), {
    error: 'FastifyError', code: 'FST_FLEET_CLUSTER_BUS_TIMEOUT', message: 'fastify-fleet/cluster: bus request "hang" got no answer within 20 ms'
  })
  t.ok(performance.now() - started >= 19)
  t.throws(() => bus.handle('echo', () => null), { message: 'fastify-fleet/cluster: bus topic "echo" already has a handler' })
  offEcho()
  await t.rejects(bus.request('echo'), { code: 'FST_FLEET_CLUSTER_BUS_NO_HANDLER' })

  const heard: unknown[] = []
  const off = bus.on('news', (data, from) => heard.push([data, from]))
  bus.on('news', () => { throw new Error('a listener failed') })
  const warning = once(process, 'warning')
  bus.broadcast('news', { n: 1 })
  t.strictSame(heard, [], 'delivered on a later turn, like a broadcast that travels')
  const [warned] = await warning as [Error]
  t.equal(warned.message, 'a listener failed', 'a throwing listener becomes a process warning')
  t.strictSame(heard, [[{ n: 1 }, { workerId: 0 }]])
  off()
  bus.broadcast('news', { n: 2 })
  await once(process, 'warning')
  t.strictSame(heard, [[{ n: 1 }, { workerId: 0 }]])
})

test('clusterBus(): outside a cluster, one standalone bus for the whole process', async (t) => {
  const bus = clusterBus()
  t.equal(bus.role, 'standalone')
  t.equal(clusterBus(), bus)
  const off = bus.handle('bus.test', () => 'here')
  t.teardown(off)
  t.equal(await clusterBus().request('bus.test'), 'here')
})
