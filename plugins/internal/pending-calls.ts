/** A call waiting for its answer, failed by `PendingCalls` once its deadline has passed. */
export interface DeadlineEntry {
  /** `performance.now()` past which the call fails. */
  deadline: number
}

/** The longest delay `setTimeout` takes (a longer one would fire at once). */
const MAX_DELAY = 2 ** 31 - 1

/**
 * Calls waiting for their answers, numbered in order, with one timer for all their deadlines (the
 * cluster bus's requests, the session stores' backend calls). Ids index an array (from the oldest
 * call still waiting), not a `Map`: V8 links each table a `Map` outgrows or shrinks from to its
 * successor, and under a steady churn of calls that chain of dead tables outlives young-generation
 * GCs (measured in a Fastify worker: scavenges of 4–6 ms instead of under 1 ms). One timer for the
 * earliest deadline rather than one per call, for the same reason and for speed; it is cleared when
 * no call is left, so nothing holds the process once every call has answered.
 */
export class PendingCalls<T extends DeadlineEntry> {
  /** The calls from id `#base` on (answered ones leave `undefined` behind); none waits before `#head`. */
  #slots: Array<T | undefined> = []
  #base = 1
  #head = 0
  #size = 0
  #timer: NodeJS.Timeout | null = null
  #timerAt = Infinity

  /** `expire`: what happens to a call whose deadline has passed (it is no longer pending then). */
  constructor (private readonly expire: (call: T) => void) {}

  get size (): number { return this.#size }

  /** Adds a call; gives its id. */
  add (call: T): number {
    this.#slots.push(call)
    this.#size++
    if (call.deadline < this.#timerAt) this.#arm(call.deadline)
    return this.#base + this.#slots.length - 1
  }

  /** Removes and gives the call `id`, if it is still waiting (not answered, not expired). */
  take (id: number): T | undefined {
    const slots = this.#slots
    const index = id - this.#base
    const call = index >= 0 ? slots[index] : undefined
    if (call === undefined) return undefined
    slots[index] = undefined
    if (--this.#size === 0) {
      this.#reset()
      this.#disarm()
    } else if (index === this.#head) {
      let head = index + 1
      while (slots[head] === undefined) head++
      this.#head = head
      // drop the answered front once it is most of the array (each call is copied once at most)
      if (head * 2 > slots.length) {
        this.#slots = slots.slice(head)
        this.#base += head
        this.#head = 0
      }
    }
    return call
  }

  /** Removes and gives every call. */
  takeAll (): T[] {
    const all = this.#slots.filter((call) => call !== undefined)
    this.#reset()
    this.#size = 0
    this.#disarm()
    return all
  }

  /** Empties the array; the next call takes the next id. */
  #reset (): void {
    this.#base += this.#slots.length
    this.#slots = []
    this.#head = 0
  }

  #arm (at: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#sweep(), Math.min(Math.max(0, Math.ceil(at - performance.now())), MAX_DELAY))
  }

  #disarm (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = Infinity
  }

  /** Fails the calls whose deadline passed, and sets the timer for the next one. */
  #sweep (): void {
    this.#timer = null
    this.#timerAt = Infinity
    const now = performance.now()
    let next = Infinity
    const expired: Array<[id: number, deadline: number]> = []
    for (let i = this.#head; i < this.#slots.length; i++) {
      const call = this.#slots[i]
      if (call === undefined) continue
      if (call.deadline <= now) expired.push([this.#base + i, call.deadline])
      else if (call.deadline < next) next = call.deadline
    }
    if (next !== Infinity) this.#arm(next)
    // a late timer may find several past their deadline: they fail in the order of their deadlines
    expired.sort((a, b) => a[1] - b[1])
    for (const [id] of expired) this.expire(this.take(id) as T)
  }
}
