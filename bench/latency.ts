/**
 * Latency from `send` to the observer at a fixed rate (half the measured
 * maximum): a paced sender stamps every 8th event as it sends it and the
 * observer stamps it on arrival. Events carry their index in `timestamp`.
 */
import { Deferred, Effect } from "effect"
import { type Event, EventStream, Observer } from "../src/index.js"
import { percentile } from "./harness.js"

/** What one latency run found, in microseconds. */
export interface Latency {
  readonly rate: number
  readonly events: number
  readonly p50: number
  readonly p99: number
  readonly max: number
}

const every = 8

/** How the paced sender sends: `send` from an Effect loop, or `unsafeSend` from plain code in event-loop turns. */
export type PacedPath = "send" | "unsafeSend"

/** Sends `events` at `rate` events/s through a stream of `shards` shards with one synchronous observer. */
export const latency = (
  events: ReadonlyArray<Event.Event>,
  rate: number,
  shards: number,
  path: PacedPath
): Promise<Latency> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const n = events.length
    const sent = new Float64Array(Math.ceil(n / every))
    const received = new Float64Array(sent.length)
    const done = yield* Deferred.make<void>()
    let count = 0
    const arrive = (event: Event.Event) => {
      const i = event.timestamp
      if (i % every === 0) received[i / every] = performance.now()
      if (++count === n) Deferred.unsafeDone(done, Effect.void)
    }
    const observer = Observer.syncEvery(arrive)
    const stream = yield* EventStream.make({ shards, observers: [Effect.succeed(observer)] })
    const perMs = rate / 1000
    const start = performance.now()
    const due = () => Math.min(n, Math.floor((performance.now() - start) * perMs))
    if (path === "send") {
      let i = 0
      while (i < n) {
        for (const until = due(); i < until; i++) {
          if (i % every === 0) sent[i / every] = performance.now()
          yield* stream.send(events[i]!)
        }
        yield* Effect.yieldNow()
      }
    } else {
      yield* Effect.promise(() =>
        new Promise<void>((resolve) => {
          let i = 0
          let stamped = -1
          const turn = () => {
            for (const until = due(); i < until; i++) {
              // stamped on the first try: a refused event's wait counts in its latency
              if (i % every === 0 && stamped < i) sent[(stamped = i) / every] = performance.now()
              if (stream.unsafeSend(events[i]!) !== "accepted") break
            }
            if (i < n) setImmediate(turn)
            else resolve()
          }
          turn()
        })
      )
    }
    yield* Deferred.await(done)
    const micros = Array.from(sent, (t, k) => (received[k]! - t) * 1000)
    return {
      rate,
      events: n,
      p50: percentile(micros, 50),
      p99: percentile(micros, 99),
      max: percentile(micros, 100)
    }
  })))
