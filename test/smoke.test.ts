import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Event, EventStream, Observer } from "../src/index.js"

describe("smoke", () => {
  it.effect("delivers", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      let shut = 0
      yield* Effect.gen(function*() {
        const stream = yield* EventStream.EventStream
        for (let i = 0; i < 5000; i++) yield* stream.send(yield* Event.traffic(`s${i % 7}`, i, true))
        yield* stream.send(yield* Event.start("abc", "1.2.3.4"))
      }).pipe(Effect.provide(EventStream.layer({
        shards: 3,
        capacity: 16,
        observers: [Effect.succeed(Observer.sync({ eventTraffic: (e) => { seen.push(e.streamId) }, eventStart: (e) => { seen.push(e.remoteIp) }, shutdown: Effect.sync(() => { shut++ }) }))]
      })))
      expect(seen.length).toBe(5001)
      expect(shut).toBe(3)
    }))
})
