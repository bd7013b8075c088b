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
 * The outcome of an offer that does not wait: `accepted` (under `sliding`,
 * perhaps by dropping the oldest queued event, counted); `full`, under
 * `suspend` only: nothing was counted and the caller still has the event;
 * `dropped`: counted, as the stream is closed or the `dropping` policy
 * refused it.
 */
export type Offer = "accepted" | "full" | "dropped"

interface Waiter<A> {
  readonly item: A
  readonly resume: (exit: Exit.Exit<void>) => void
}

const done = Exit.succeed(undefined)

/**
 * The bounded queue of one shard: many synchronous producers, one consumer that
 * takes everything queued at once, with no per-event allocation. Two arrays
 * take turns: senders fill one while the consumer reads the batch in the
 * other, which is cleared and becomes the buffer at the consumer's next take.
 *
 * Hand-written rather than Effect 3's `Mailbox`: `Mailbox.unsafeTakeAll` sets
 * the capacity to 0 for good when a suspended offer registers after the buffer
 * drained, after which the shard passes one event at a time.
 *
 * @internal
 */
export class ShardQueue<A> {
  /** Events accepted into the queue (an event `sliding` evicts is no longer counted here, but as overflow). */
  accepted = 0
  /** Events dropped by the `dropping` or `sliding` overflow policy. */
  droppedOverflow = 0
  /** Events refused because the queue was closed, or whose sender was released by the close. */
  droppedClosed = 0

  /** Queued events are `items[head]` up to before `items[end]`. */
  private items: Array<A | undefined> = []
  private head = 0
  private end = 0
  private readonly batch: Batch<A> = { items: [], start: 0, end: 0 }
  private open = true
  private taker: ((exit: Exit.Exit<void>) => void) | undefined = undefined
  private readonly waiters: Array<Waiter<A>> = []

  constructor(readonly capacity: number, readonly overflow: Overflow) {}

  /** Events queued and not yet taken. */
  get size(): number {
    return this.end - this.head
  }

  /** Offers without waiting. */
  unsafeOffer(item: A): Offer {
    if (!this.open) {
      this.droppedClosed++
      return "dropped"
    }
    if (this.end - this.head >= this.capacity) {
      if (this.overflow === "suspend") return "full"
      this.droppedOverflow++
      if (this.overflow === "dropping") return "dropped"
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
      // The consumer may have taken everything between the full offer and now.
      if (this.waiters.length === 0 && this.size < this.capacity) {
        this.push(item)
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

  /**
   * Takes everything queued, waiting while empty; `undefined` once closed and
   * drained. The batch is valid until the next take, which reuses its array.
   */
  readonly take: Effect.Effect<Batch<A> | undefined> = Effect.suspend(() => {
    if (this.unsafeTakeAll()) return Exit.succeed(this.batch)
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
    // A sender may have offered, or the queue closed, between the empty take and now.
    if (this.size > 0 || !this.open) return resume(Exit.void)
    this.taker = resume
    return Effect.sync(() => {
      this.taker = undefined
    })
  })

  private push(item: A): void {
    this.items[this.end++] = item
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

  /** Drops the oldest queued event: no longer accepted, but dropped by overflow. */
  private evictOldest(): void {
    this.accepted--
    this.items[this.head++] = undefined
    if (this.head >= this.capacity) {
      this.items.copyWithin(0, this.head, this.end)
      this.items.fill(undefined, this.end - this.head, this.end)
      this.end -= this.head
      this.head = 0
    }
  }

  /** Moves what is queued into `batch` and swaps buffers; `false` when nothing is queued. */
  private unsafeTakeAll(): boolean {
    // the consumer is done with the previous batch: let its events go; its array becomes the next buffer
    const batch = this.batch
    const previous = batch.items as Array<A | undefined>
    previous.fill(undefined, batch.start, batch.end)
    batch.start = batch.end = 0
    if (this.end === this.head) return false
    batch.items = this.items
    batch.start = this.head
    batch.end = this.end
    this.items = previous
    this.head = 0
    this.end = 0
    while (this.waiters.length > 0 && this.end < this.capacity) {
      const waiter = this.waiters.shift()!
      this.push(waiter.item)
      waiter.resume(Exit.void)
    }
    return true
  }
}

/**
 * Events taken at once: `items[start]` up to before `items[end]`. Owned by
 * the queue and valid until the consumer's next take.
 *
 * @internal
 */
export interface Batch<A> {
  items: ReadonlyArray<A | undefined>
  start: number
  end: number
}
