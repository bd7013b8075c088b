/**
 * How many events the shard worker gets per turn. The observer counts a new
 * batch whenever the sender moved on since the event before: within one batch
 * the worker runs without the sender running. One-at-a-time delivery (a
 * regression to a degenerate queue) shows as batches of about 1.
 */
import { Deferred, Effect } from "effect"
import { type Event, EventStream, Observer } from "../src/index.js"

/** The mean batch size and the number of batches of one run of `events` through `send` or `sendAll`. */
export const batchSizes = (
  events: ReadonlyArray<Event.Event>,
  shards: number,
  path: "send" | "sendAll"
): Promise<{ readonly batches: number; readonly mean: number }> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    let sent = 0
    let batches = 0
    let count = 0
    const done = yield* Deferred.make<void>()
    // one instance per shard, each watching for the sender to move between its events
    const factory = Effect.sync(() => {
      let seen = -1
      const arrive = () => {
        if (sent !== seen) {
          seen = sent
          batches++
        }
        if (++count === events.length) Deferred.unsafeDone(done, Effect.void)
      }
      return Observer.syncEvery(arrive)
    })
    const stream = yield* EventStream.make({ shards, observers: [factory] })
    if (path === "sendAll") {
      yield* stream.sendAll((function*() {
        for (const event of events) {
          sent++
          yield event
        }
      })())
    } else {
      for (let i = 0; i < events.length; i++) {
        sent++
        yield* stream.send(events[i]!)
      }
    }
    yield* Deferred.await(done)
    return { batches, mean: events.length / batches }
  })))
