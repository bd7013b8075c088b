import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Event from "../Event.js"
import type { Observer } from "../Observer.js"
import { type HandlerName, SyncHandlers, type SyncTable } from "./observer.js"
import type { Batch, ShardQueue } from "./shardQueue.js"

/** Counters a shard's worker keeps. @internal */
export interface WorkerCounters {
  delivered: number
  observerFailures: number
}

/** Handlers named as mtg's methods, each returning `R`: an observer (`R` an Effect) or a synchronous table. */
type Handlers<R> = { readonly [K in HandlerName]: (event: any) => R }

/** Calls the handler for the event's tag; traffic first, as nearly every event is traffic. */
const dispatch = <R>(handlers: Handlers<R>, event: Event.Event): R => {
  switch (event._tag) {
    case "EventTraffic":
      return handlers.eventTraffic(event)
    case "EventStart":
      return handlers.eventStart(event)
    case "EventConnectedToDC":
      return handlers.eventConnectedToDC(event)
    case "EventFinish":
      return handlers.eventFinish(event)
    case "EventDomainFronting":
      return handlers.eventDomainFronting(event)
    case "EventConcurrencyLimited":
      return handlers.eventConcurrencyLimited(event)
    case "EventIPBlocklisted":
      return handlers.eventIPBlocklisted(event)
    case "EventReplayAttack":
      return handlers.eventReplayAttack(event)
    case "EventIPListSize":
      return handlers.eventIPListSize(event)
  }
}

/** The batch a shard is delivering, shared by its observers' lanes. */
class Delivery {
  /** The batch is `items[start]` up to before `items[end]`. */
  items: ReadonlyArray<Event.Event | undefined> = []
  start = 0
  end = 0
  /** How far into the batch the leading observer is; what it passed is counted delivered. */
  private handed = 0

  constructor(readonly shard: number, readonly counters: WorkerCounters) {}

  begin(batch: Batch<Event.Event>): void {
    this.items = batch.items
    this.start = this.handed = batch.start
    this.end = batch.end
  }

  /** Counts the events before `index` as delivered, once. */
  hand(index: number): void {
    if (index > this.handed) {
      this.counters.delivered += index - this.handed
      this.handed = index
    }
  }

  /** Logs and counts a failed handler run; the event is skipped for that observer. */
  failed(event: Event.Event, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.counters.observerFailures++
      return Effect.logError("mtg-events: observer failed; event skipped", cause).pipe(
        Effect.annotateLogs({ shard: this.shard, event: event._tag, streamId: event.streamId })
      )
    })
  }
}

/**
 * One observer of a shard and its place in the batch. Synchronous handlers and
 * handlers returning a completed effect run inline; any other effect is
 * returned with the rest of the lane's batch chained after it: one
 * continuation per effect that has to run, and no generator or fiber per event.
 */
class Lane {
  /** The next event of the batch for this observer. */
  index = 0
  private readonly table: SyncTable | undefined

  constructor(private readonly delivery: Delivery, private readonly observer: Observer) {
    this.table = observer[SyncHandlers]
  }

  /** Hands events on from `index` while they complete inline; returns the rest as an effect, or `undefined` when done. */
  run(): Effect.Effect<void> | undefined {
    const { end, items } = this.delivery
    while (this.index < end) {
      const event = items[this.index++]!
      this.delivery.hand(this.index)
      const rest = this.call(event)
      if (rest !== undefined) return rest
    }
    return undefined
  }

  /** Hands one event (the one before `index`) to the observer; returns what is left of the batch if it did not complete inline. */
  call(event: Event.Event): Effect.Effect<void> | undefined {
    try {
      if (this.table !== undefined) {
        dispatch(this.table, event)
        return undefined
      }
      const effect = dispatch<Effect.Effect<void>>(this.observer, event)
      if (!Exit.isExit(effect)) return Effect.matchCauseEffect(effect, this.afterEffect)
      return Exit.isSuccess(effect) ? undefined : Effect.zipRight(this.delivery.failed(event, effect.cause), this.rest)
    } catch (defect) {
      return Effect.zipRight(this.delivery.failed(event, Cause.die(defect)), this.rest)
    }
  }

  private readonly rest: Effect.Effect<void> = Effect.suspend(() => this.run() ?? Effect.void)

  private readonly afterEffect = {
    onFailure: (cause: Cause.Cause<never>) =>
      Effect.zipRight(this.delivery.failed(this.delivery.items[this.index - 1]!, cause), this.rest),
    onSuccess: () => this.run() ?? Effect.void
  }
}

/**
 * Delivers a batch to several observers, event by event while every handler
 * completes inline. When some wait on an event, each observer goes on through
 * the batch at its own pace, those that wait concurrently (one fiber each, per
 * batch rather than per event), and the shard takes its next batch when all are
 * done: every observer still sees every event, in order.
 */
const fanOut = (delivery: Delivery, lanes: ReadonlyArray<Lane>): Effect.Effect<void> | undefined => {
  const { end, items } = delivery
  for (let i = delivery.start; i < end; i++) {
    const event = items[i]!
    delivery.hand(i + 1)
    let waiting: Array<Effect.Effect<void> | undefined> | undefined
    for (let k = 0; k < lanes.length; k++) {
      const lane = lanes[k]!
      lane.index = i + 1
      const rest = lane.call(event)
      if (rest !== undefined) (waiting ??= new Array(lanes.length))[k] = rest
    }
    if (waiting !== undefined) {
      const rests: Array<Effect.Effect<void>> = []
      for (let k = 0; k < lanes.length; k++) {
        const rest = waiting[k] ?? lanes[k]!.run()
        if (rest !== undefined) rests.push(rest)
      }
      return rests.length === 1 ? rests[0] : Effect.all(rests, { concurrency: "unbounded", discard: true })
    }
  }
  return undefined
}

/**
 * Drains one shard's queue into its observers until the queue is closed and
 * empty, a whole batch per turn. Synchronous handlers, and handlers that
 * return an already-completed effect, are called inline with no Effect run per
 * event. A handler that fails, dies or throws is logged and counted, and the
 * shard goes on with the next event.
 *
 * @internal
 */
export const runShard = (
  shard: number,
  queue: ShardQueue<Event.Event>,
  observers: ReadonlyArray<Observer>,
  counters: WorkerCounters
): Effect.Effect<void> => {
  const delivery = new Delivery(shard, counters)
  const lanes = observers.map((observer) => new Lane(delivery, observer))
  const single = lanes.length === 1 ? lanes[0] : undefined
  return Effect.gen(function*() {
    while (true) {
      const batch = yield* queue.take
      if (batch === undefined) return
      delivery.begin(batch)
      for (const lane of lanes) lane.index = batch.start
      const rest = single !== undefined ? single.run() : fanOut(delivery, lanes)
      if (rest !== undefined) yield* rest
    }
  })
}
