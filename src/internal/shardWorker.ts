import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Event from "../Event.js"
import type { Observer } from "../Observer.js"
import { handlerOf, SyncHandlers } from "./observer.js"
import type { ShardQueue } from "./shardQueue.js"

/** Counters a shard's worker keeps. @internal */
export interface WorkerCounters {
  delivered: number
  observerFailures: number
}

/**
 * Drains one shard's queue into its observers until the queue is closed and
 * empty. Each event goes to every observer; synchronous handlers and handlers
 * that return an already-completed effect are called inline, so a batch of
 * such events runs with no Effect per event. Effects of the others run
 * concurrently and are awaited before the next event, as mtg's fan-out does.
 * A handler that fails, dies or throws is logged and counted, and the shard
 * goes on.
 *
 * @internal
 */
export const runShard = (
  shard: number,
  queue: ShardQueue<Event.Event>,
  observers: ReadonlyArray<Observer>,
  counters: WorkerCounters
): Effect.Effect<void> => {
  const failed = (event: Event.Event, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
    Effect.suspend(() => {
      counters.observerFailures++
      return Effect.logError("mtg-events: observer failed; event skipped", cause).pipe(
        Effect.annotateLogs({ shard, event: event._tag, streamId: event.streamId })
      )
    })

  /** Calls one observer; returns the effect still to run, if any. */
  const call = (observer: Observer, event: Event.Event): Effect.Effect<void> | undefined => {
    const name = handlerOf[event._tag]
    const table = observer[SyncHandlers]
    let effect: Effect.Effect<void>
    try {
      if (table !== undefined) {
        table[name](event)
        return undefined
      }
      effect = (observer[name] as (event: Event.Event) => Effect.Effect<void>)(event)
    } catch (defect) {
      return failed(event, Cause.die(defect))
    }
    if (Exit.isExit(effect)) return Exit.isSuccess(effect) ? undefined : failed(event, effect.cause)
    return Effect.catchAllCause(effect, (cause) => failed(event, cause))
  }

  let batch: ReadonlyArray<Event.Event> = []
  let index = 0

  /** Delivers from `index` on until an event leaves an effect to run; returns it. */
  const deliver = (): Effect.Effect<void> | undefined => {
    while (index < batch.length) {
      const event = batch[index++]!
      counters.delivered++
      let pending: Effect.Effect<void> | undefined
      let more: Array<Effect.Effect<void>> | undefined
      for (let i = 0; i < observers.length; i++) {
        const effect = call(observers[i]!, event)
        if (effect === undefined) continue
        if (pending === undefined) pending = effect
        else (more ??= [pending]).push(effect)
      }
      if (more !== undefined) return Effect.all(more, { concurrency: "unbounded", discard: true })
      if (pending !== undefined) return pending
    }
    return undefined
  }

  return Effect.gen(function*() {
    while (true) {
      const next = yield* queue.take
      if (next === undefined) return
      batch = next
      index = 0
      for (let effect = deliver(); effect !== undefined; effect = deliver()) {
        yield* effect
      }
    }
  })
}
