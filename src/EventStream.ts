/**
 * The sharded event stream of mtg's `events` package as an Effect service.
 *
 * Events are routed by `streamId` to a fixed set of shards; each shard is a
 * bounded queue drained by one fiber that owns its own observer instances, so
 * every event of a session reaches the same observer, in the order it was
 * sent. The stream lives in the scope of its layer: closing the scope stops
 * accepting, drains what was accepted (within a deadline), then shuts each
 * observer down exactly once.
 *
 * @since 0.1.0
 */
import { availableParallelism } from "node:os"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Event from "./Event.js"
import { type Offer, type Overflow, ShardQueue } from "./internal/shardQueue.js"
import { runShard, type WorkerCounters } from "./internal/shardWorker.js"
import { xxhash32 } from "./internal/xxhash32.js"
import * as Observer from "./Observer.js"

export type { Offer, Overflow } from "./internal/shardQueue.js"

/** What the stream has done so far. Every event sent is accepted or dropped; every accepted one is delivered, queued, or dropped at the deadline. */
export interface Stats {
  /** Events accepted into a shard queue. */
  readonly accepted: number
  /** Events handed to their shard's observers. */
  readonly delivered: number
  /** Events accepted and not yet delivered. */
  readonly queued: number
  /** Handler runs that failed, died or threw (the event was skipped for that observer). */
  readonly observerFailures: number
  readonly dropped: {
    /** Sent after shutdown began, or released from a blocked send by it. */
    readonly closed: number
    /** Dropped by the `dropping` or `sliding` overflow policy. */
    readonly overflow: number
    /** Accepted but not delivered because the drain deadline passed. */
    readonly deadline: number
  }
}

/** The event stream service. */
export interface Service {
  /** The number of shards. */
  readonly shards: number
  /**
   * Sends an event to its shard. Under the `suspend` policy it waits while the
   * shard is full; interrupting it then delivers nothing. After shutdown began
   * it returns at once and the event is counted as dropped.
   */
  readonly send: (event: Event.Event) => Effect.Effect<void>
  /** Sends events in order, as `send` each, with one Effect for the whole batch. */
  readonly sendAll: (events: Iterable<Event.Event>) => Effect.Effect<void>
  /**
   * Offers an event without waiting, for callers outside Effect (socket
   * callbacks). On `full` (the shard is full under `suspend`) nothing was
   * counted and the caller keeps the event: send it later with `send`, in
   * order. On `dropped` it was counted (closed stream, `dropping` policy).
   */
  readonly unsafeSend: (event: Event.Event) => Offer
  /**
   * A sender bound to one session: the shard of `streamId` is found once, so
   * its sends skip routing. Make one when a session starts and send its
   * events through it. `""` (no session) routes each event as `send` does.
   */
  readonly session: (streamId: string) => Session
  /** A snapshot of the counters. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * A sender bound to one session's shard (see `Service.session`). An event of
 * another session still goes to its own shard, so the routing guarantee holds
 * whatever is sent through it. Its methods are methods: call them on the
 * session (`session.send(e)`), not detached.
 */
export interface Session {
  /** The session this sender is bound to. */
  readonly streamId: string
  /** As `Service.send`. */
  send(event: Event.Event): Effect.Effect<void>
  /** As `Service.unsafeSend`. */
  unsafeSend(event: Event.Event): Offer
}

/** The event stream. */
export class EventStream extends Context.Tag("mtg-events/EventStream")<EventStream, Service>() {}

/** Observer factories of any error and requirements. */
export type Factories = ReadonlyArray<Observer.Factory<any, any>>

/** The errors of some factories (`never` for none). */
export type ErrorOf<F> = F extends Effect.Effect<any, infer E, any> ? E : never

/** The requirements of some factories (`never` for none). */
export type ContextOf<F> = F extends Effect.Effect<any, any, infer R> ? R : never

/** Options of `layer`. */
export interface Options<F extends Factories = Factories> {
  /** Observer factories, each run once per shard; none means a noop observer. Several make a fan-out. */
  readonly observers?: F | undefined
  /** Number of shards; default `os.availableParallelism()`, as mtg's one per CPU. */
  readonly shards?: number | undefined
  /**
   * Queue capacity of each shard; default 1024. Batches form while a shard is
   * busy, and from 256 up a shard runs at full speed on a 2-core machine; 1024
   * leaves room for bursts while bounding memory to about 100 KB per shard.
   */
  readonly capacity?: number | undefined
  /** What a full shard does with a new event; default `suspend` (backpressure, as mtg). */
  readonly overflow?: Overflow | undefined
  /** How long shutdown waits for the shards to drain, then for observers to shut down; default 5 seconds. */
  readonly drainTimeout?: Duration.DurationInput | undefined
}

/** The default capacity of a shard. */
export const defaultCapacity = 1024

/** The shard mtg picks for a non-empty `streamId`: xxhash32 (seed 0) of its UTF-8 bytes, mod `shards`. */
export const shardOf = (streamId: string, shards: number): number => xxhash32(streamId) % shards

/** Offers to a shard, waiting for room when it is full under `suspend`. */
const offerTo = (queue: ShardQueue<Event.Event>, event: Event.Event): Effect.Effect<void> =>
  queue.unsafeOffer(event) === "full" ? queue.offerWait(event) : Effect.void

/**
 * The sender of a session. A class, so that the senders of all sessions share
 * one `send` and one `unsafeSend`: thousands of per-session closures at one
 * call site cost a third of the throughput.
 */
class SessionSender implements Session {
  constructor(
    readonly streamId: string,
    /** The session's shard; `undefined` for `""`, whose events are spread. */
    private readonly own: ShardQueue<Event.Event> | undefined,
    private readonly queueOf: (event: Event.Event) => ShardQueue<Event.Event>
  ) {}

  send(event: Event.Event): Effect.Effect<void> {
    return Effect.suspend(() => offerTo(this.queueFor(event), event))
  }

  unsafeSend(event: Event.Event): Offer {
    return this.queueFor(event).unsafeOffer(event)
  }

  private queueFor(event: Event.Event): ShardQueue<Event.Event> {
    return this.own !== undefined && event.streamId === this.streamId ? this.own : this.queueOf(event)
  }
}

/** Routes stream ids to shards, remembering recent ids so a session is hashed about once. */
const makeRouter = (shards: number): (streamId: string) => number => {
  if (shards === 1) return () => 0
  const known = new Map<string, number>()
  let next = 0
  return (streamId) => {
    if (streamId === "") {
      next = next + 1 === shards ? 0 : next + 1
      return next
    }
    let shard = known.get(streamId)
    if (shard === undefined) {
      if (known.size >= 65_536) known.clear()
      shard = shardOf(streamId, shards)
      known.set(streamId, shard)
    }
    return shard
  }
}

const positiveInt = (name: string, n: number): Effect.Effect<number> =>
  Number.isSafeInteger(n) && n > 0
    ? Effect.succeed(n)
    : Effect.die(new Cause.IllegalArgumentException(`EventStream: ${name} must be a positive integer, got ${n}`))

/** Builds the stream in the current scope; see `layer`. */
export const make = <const F extends Factories = []>(
  options: Options<F> = {}
): Effect.Effect<Service, ErrorOf<F[number]>, ContextOf<F[number]> | Scope.Scope> =>
  build<ErrorOf<F[number]>, ContextOf<F[number]>>(options.observers ?? [], options)

const build = <E, R>(
  observerFactories: ReadonlyArray<Observer.Factory<E, R>>,
  options: Options
): Effect.Effect<Service, E, R | Scope.Scope> =>
  Effect.gen(function*() {
    const shards = yield* positiveInt("shards", options.shards ?? availableParallelism())
    const capacity = yield* positiveInt("capacity", options.capacity ?? defaultCapacity)
    const drainTimeout = Duration.decode(options.drainTimeout ?? "5 seconds")
    const factories = observerFactories.length > 0 ? observerFactories : [Observer.noopFactory]
    const overflow = options.overflow ?? "suspend"

    const queues = Array.from({ length: shards }, () => new ShardQueue<Event.Event>(capacity, overflow))
    const counters: Array<WorkerCounters> = queues.map(() => ({ delivered: 0, observerFailures: 0 }))
    const observers = yield* Effect.forEach(queues, () => Effect.all(factories))
    const workers = yield* Effect.forEach(queues, (queue, i) =>
      Effect.forkScoped(runShard(i, queue, observers[i]!, counters[i]!)))
    let droppedAtDeadline = 0

    const stats = Effect.sync((): Stats => {
      let accepted = 0, delivered = 0, observerFailures = 0, closed = 0, overflowed = 0
      for (let i = 0; i < shards; i++) {
        const q = queues[i]!, c = counters[i]!
        accepted += q.accepted
        closed += q.droppedClosed
        overflowed += q.droppedOverflow
        delivered += c.delivered
        observerFailures += c.observerFailures
      }
      const queued = accepted - delivered - droppedAtDeadline
      return {
        accepted,
        delivered,
        queued,
        observerFailures,
        dropped: { closed, overflow: overflowed, deadline: droppedAtDeadline }
      }
    })

    const shutdown = Effect.gen(function*() {
      for (const queue of queues) queue.close()
      const drained = yield* Fiber.awaitAll(workers).pipe(
        Effect.interruptible,
        Effect.timeoutTo({ duration: drainTimeout, onSuccess: () => true, onTimeout: () => false })
      )
      if (!drained) {
        yield* Effect.forEach(workers, Fiber.interrupt, { discard: true })
        const { queued } = yield* stats
        droppedAtDeadline = queued
        yield* Effect.logWarning(
          `mtg-events: drain deadline of ${Duration.format(drainTimeout)} passed; ${queued} accepted events not delivered`
        )
      }
      yield* Effect.forEach(
        observers.flat(),
        (observer) =>
          observer.shutdown.pipe(
            Effect.catchAllCause((cause) => Effect.logError("mtg-events: observer shutdown failed", cause))
          ),
        { concurrency: "unbounded", discard: true }
      ).pipe(
        Effect.interruptible,
        Effect.timeoutTo({
          duration: drainTimeout,
          onSuccess: () => Effect.void,
          onTimeout: () => Effect.logWarning("mtg-events: observer shutdown deadline passed")
        }),
        Effect.flatten
      )
    })
    yield* Effect.addFinalizer(() => shutdown)

    const route = makeRouter(shards)
    const queueOf = (event: Event.Event): ShardQueue<Event.Event> => queues[route(event.streamId)]!

    const send = (event: Event.Event): Effect.Effect<void> => Effect.suspend(() => offerTo(queueOf(event), event))

    const unsafeSend = (event: Event.Event): Offer => queueOf(event).unsafeOffer(event)

    const sendAll = (events: Iterable<Event.Event>): Effect.Effect<void> =>
      Effect.suspend(() => {
        // arrays by index: the iterator protocol costs about 15% on this path
        if (Array.isArray(events)) {
          const list: ReadonlyArray<Event.Event> = events
          let i = 0
          const loop = (): Effect.Effect<void> => {
            while (i < list.length) {
              const event = list[i++]!
              const queue = queueOf(event)
              if (queue.unsafeOffer(event) === "full") return Effect.flatMap(queue.offerWait(event), loop)
            }
            return Effect.void
          }
          return loop()
        }
        const iterator = events[Symbol.iterator]()
        const loop = (): Effect.Effect<void> => {
          for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
            const queue = queueOf(next.value)
            if (queue.unsafeOffer(next.value) === "full") return Effect.flatMap(queue.offerWait(next.value), loop)
          }
          return Effect.void
        }
        return loop()
      })

    const session = (streamId: string): Session =>
      new SessionSender(streamId, streamId === "" ? undefined : queues[shardOf(streamId, shards)], queueOf)

    return { shards, send, sendAll, unsafeSend, session, stats } satisfies Service
  })

/**
 * The event stream as a layer: shards and their workers live in the layer's
 * scope, and closing it drains and shuts down as described in the module doc.
 */
export const layer = <const F extends Factories = []>(
  options: Options<F> = {}
): Layer.Layer<EventStream, ErrorOf<F[number]>, Exclude<ContextOf<F[number]>, Scope.Scope>> =>
  Layer.scoped(EventStream, make(options))

const noStats: Stats = {
  accepted: 0,
  delivered: 0,
  queued: 0,
  observerFailures: 0,
  dropped: { closed: 0, overflow: 0, deadline: 0 }
}

/** A stream that discards every event (mtg's `NoopStream`). */
export const layerNoop: Layer.Layer<EventStream> = Layer.succeed(EventStream, {
  shards: 1,
  send: () => Effect.void,
  sendAll: () => Effect.void,
  unsafeSend: () => "accepted",
  session: (streamId) => ({ streamId, send: () => Effect.void, unsafeSend: () => "accepted" }),
  stats: Effect.succeed(noStats)
})

/** Sends an event through the `EventStream` in context. */
export const send = (event: Event.Event): Effect.Effect<void, never, EventStream> =>
  Effect.flatMap(EventStream, (stream) => stream.send(event))
