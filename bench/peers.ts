/**
 * What a user could pick instead, doing the same work per event (xxhash32
 * routing to a shard, then the switch and call of the baseline):
 * Node's EventEmitter, RxJS groupBy + concatMap, and an Effect `Queue` per
 * shard with one `offer` and one `take` per event.
 */
import { Deferred, Effect, Queue } from "effect"
import { EventEmitter } from "node:events"
import { EMPTY, from, groupBy, mergeMap, concatMap } from "rxjs"
import type { Event } from "../src/index.js"
import { check, Counter, dispatch, hashRouter } from "./baseline.js"
import { type Sample, timeSync } from "./harness.js"

/** One EventEmitter per shard, a listener per event tag. */
export const eventEmitter = (events: ReadonlyArray<Event.Event>, shards: number) => (): Sample => {
  const observers = Array.from({ length: shards }, () => new Counter())
  const emitters = observers.map((observer) => {
    const emitter = new EventEmitter()
    emitter.on("EventStart", (e) => observer.eventStart(e))
    emitter.on("EventConnectedToDC", (e) => observer.eventConnectedToDC(e))
    emitter.on("EventTraffic", (e) => observer.eventTraffic(e))
    emitter.on("EventFinish", (e) => observer.eventFinish(e))
    emitter.on("EventDomainFronting", (e) => observer.eventDomainFronting(e))
    emitter.on("EventConcurrencyLimited", (e) => observer.eventConcurrencyLimited(e))
    emitter.on("EventIPBlocklisted", (e) => observer.eventIPBlocklisted(e))
    emitter.on("EventReplayAttack", (e) => observer.eventReplayAttack(e))
    emitter.on("EventIPListSize", (e) => observer.eventIPListSize(e))
    return emitter
  })
  const route = hashRouter(shards)
  const sample = timeSync(events.length, () => {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      emitters[route(event.streamId)]!.emit(event._tag, event)
    }
  })
  check(observers, events.length)
  return sample
}

/** RxJS: group by shard, each group in order through `concatMap`. */
export const rxjs = (events: ReadonlyArray<Event.Event>, shards: number) => (): Promise<Sample> => {
  const observers = Array.from({ length: shards }, () => new Counter())
  const route = hashRouter(shards)
  return new Promise((resolve, reject) => {
    const start = performance.now()
    from(events).pipe(
      groupBy((event) => route(event.streamId)),
      mergeMap((group) =>
        group.pipe(concatMap((event) => {
          dispatch(observers[group.key]!, event)
          return EMPTY
        }))
      )
    ).subscribe({
      error: reject,
      complete: () => {
        const ms = performance.now() - start
        check(observers, events.length)
        resolve({ events: events.length, ms })
      }
    })
  })
}

/** A bounded Effect `Queue` per shard: `Queue.offer` per event, a worker fiber doing `Queue.take` per event. */
export const effectQueue = (events: ReadonlyArray<Event.Event>, shards: number, capacity = 1024) => (): Promise<Sample> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const observers = Array.from({ length: shards }, () => new Counter())
    const done = yield* Deferred.make<void>()
    let count = 0
    const queues = yield* Effect.forEach(observers, () => Queue.bounded<Event.Event>(capacity))
    yield* Effect.forEach(queues, (queue, i) =>
      Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), (event) =>
        Effect.sync(() => {
          dispatch(observers[i]!, event)
          if (++count === events.length) Deferred.unsafeDone(done, Effect.void)
        })))))
    const route = hashRouter(shards)
    const start = performance.now()
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      yield* Queue.offer(queues[route(event.streamId)]!, event)
    }
    yield* Deferred.await(done)
    const ms = performance.now() - start
    check(observers, events.length)
    return { events: events.length, ms }
  })))
