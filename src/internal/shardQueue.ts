import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/**
 * What a shard does with an event that arrives while its queue is full.
 *
 * - `suspend`: the sender waits for room (mtg's behaviour, backpressure).
 * - `dropping`: the new event is dropped and counted.
 * - `sliding`: the oldest queued event is dropped and counted.
 */
export type Overflow = "suspend" | "dropping" | "sliding"

/**
 * The outcome of a non-waiting offer: `full` only under the `suspend` policy;
 * `rejected` when the queue is closed or the `dropping` policy dropped it (counted).
 *
 * @internal
 */
export type Offer = "accepted" | "full" | "rejected"

interface Waiter<A> {
  readonly item: A
  readonly resume: (exit: Exit.Exit<void>) => void
}

const done = Exit.succeed(undefined)

/**
 * The bounded queue of one shard: many synchronous producers, one consumer that
 * takes everything queued at once, with no per-event allocation.
 *
 * Hand-written rather than Effect 3's `Mailbox`: `Mailbox.unsafeTakeAll` sets
 * the capacity to 0 for good when a suspended offer registers after the buffer
 * drained, after which the shard passes one event at a time.
 *
 * @internal
 */
export class ShardQueue<A> {
  /** Events accepted into the queue. */
  accepted = 0
  /** Events dropped by the `dropping` or `sliding` overflow policy. */
  droppedOverflow = 0
  /** Events refused because the queue was closed, or whose sender was released by the close. */
  droppedClosed = 0

  private buffer: Array<A> = []
  private head = 0
  private open = true
  private taker: ((exit: Exit.Exit<void>) => void) | undefined = undefined
  private readonly waiters: Array<Waiter<A>> = []

  constructor(readonly capacity: number, readonly overflow: Overflow) {}

  /** Events queued and not yet taken. */
  get size(): number {
    return this.buffer.length - this.head
  }

  /** Offers without waiting. */
  unsafeOffer(item: A): Offer {
    if (!this.open) {
      this.droppedClosed++
      return "rejected"
    }
    if (this.buffer.length - this.head >= this.capacity) {
      if (this.overflow === "suspend") return "full"
      this.droppedOverflow++
      if (this.overflow === "dropping") return "rejected"
      this.evictOldest()
    }
    this.push(item)
    return "accepted"
  }

  /** Waits until `item` is accepted or the queue closes; interrupting it withdraws the item. */
  offerWait(item: A): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (!this.open) {
        this.droppedClosed++
        return resume(Exit.void)
      }
      const waiter: Waiter<A> = { item, resume }
      this.waiters.push(waiter)
      return Effect.sync(() => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
      })
    })
  }

  /** Takes everything queued, waiting while empty; `undefined` once closed and drained. */
  readonly take: Effect.Effect<ReadonlyArray<A> | undefined> = Effect.suspend(() => {
    const batch = this.unsafeTakeAll()
    if (batch !== undefined) return Exit.succeed(batch)
    if (!this.open) return done
    return Effect.zipRight(this.awaitItems, this.take)
  })

  /** Stops accepting: later offers are refused, waiting senders released; the consumer drains what is queued. */
  close(): void {
    if (!this.open) return
    this.open = false
    for (const waiter of this.waiters) {
      this.droppedClosed++
      waiter.resume(Exit.void)
    }
    this.waiters.length = 0
    this.wakeTaker()
  }

  private readonly awaitItems = Effect.async<void>((resume) => {
    this.taker = resume
    return Effect.sync(() => {
      this.taker = undefined
    })
  })

  private push(item: A): void {
    this.buffer.push(item)
    this.accepted++
    this.wakeTaker()
  }

  private wakeTaker(): void {
    const taker = this.taker
    if (taker !== undefined) {
      this.taker = undefined
      taker(Exit.void)
    }
  }

  private evictOldest(): void {
    this.head++
    if (this.head >= this.capacity) {
      this.buffer = this.buffer.slice(this.head)
      this.head = 0
    }
  }

  private unsafeTakeAll(): Array<A> | undefined {
    if (this.buffer.length === this.head) return undefined
    const batch = this.head === 0 ? this.buffer : this.buffer.slice(this.head)
    this.buffer = []
    this.head = 0
    while (this.waiters.length > 0 && this.buffer.length < this.capacity) {
      const waiter = this.waiters.shift()!
      this.buffer.push(waiter.item)
      this.accepted++
      waiter.resume(Exit.void)
    }
    return batch
  }
}
