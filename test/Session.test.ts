import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import { Event, EventStream, Observer } from "../src/index.js"
import { traffic } from "./support/turns.js"

/** One observer instance per shard, each logging the events it gets. */
const logging = (shards: number) => {
  const logs: Array<Array<Event.Event>> = []
  const factory = Effect.sync(() => {
    const log = logs[logs.push([]) - 1]!
    const record = (event: Event.Event) => {
      log.push(event)
    }
    return Observer.sync({ eventTraffic: record, eventConcurrencyLimited: record })
  })
  return { logs, factory, shards }
}

describe("session senders", () => {
  it.effect.prop(
    "keep mtg's routing whatever is sent through them: the shard of the event's own session, in order",
    {
      shards: FastCheck.integer({ min: 1, max: 5 }),
      capacity: FastCheck.integer({ min: 1, max: 8 }),
      sends: FastCheck.array(
        FastCheck.record({
          via: FastCheck.integer({ min: 0, max: 5 }),
          // the session the event belongs to; 6 means none ("")
          of: FastCheck.integer({ min: 0, max: 6 }),
          unsafe: FastCheck.boolean()
        }),
        { maxLength: 100 }
      )
    },
    ({ capacity, sends, shards }) =>
      Effect.gen(function*() {
        const { factory, logs } = logging(shards)
        const events = sends.map(({ of }, seq) =>
          of === 6 ? new Event.EventConcurrencyLimited({ streamId: "", timestamp: seq }) : traffic(`s${of}`, seq))
        yield* Effect.gen(function*() {
          const stream = yield* EventStream.EventStream
          const sessions = Array.from({ length: 6 }, (_, i) => stream.session(`s${i}`))
          expect(sessions.map((s) => s.streamId)).toEqual(["s0", "s1", "s2", "s3", "s4", "s5"])
          for (let i = 0; i < sends.length; i++) {
            const session = sessions[sends[i]!.via]!
            if (!sends[i]!.unsafe || session.unsafeSend(events[i]!) === "full") yield* session.send(events[i]!)
          }
        }).pipe(Effect.provide(EventStream.layer({ shards, capacity, observers: [factory] })))

        expect(logs.flat()).toHaveLength(events.length)
        logs.forEach((log, shard) => {
          for (const event of log) {
            if (event.streamId !== "") expect(EventStream.shardOf(event.streamId, shards)).toBe(shard)
          }
          const sessionEvents = log.filter((e) => e.streamId !== "").map((e) => e.timestamp)
          expect(sessionEvents).toEqual([...sessionEvents].sort((a, b) => a - b))
        })
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("the session of no session spreads its events over the shards, as send does", () =>
    Effect.gen(function*() {
      const { factory, logs } = logging(4)
      yield* Effect.flatMap(EventStream.EventStream, (stream) => {
        const none = stream.session("")
        return Effect.forEach(
          Array.from({ length: 100 }, (_, i) => new Event.EventConcurrencyLimited({ streamId: "", timestamp: i })),
          (event) => none.send(event),
          { discard: true }
        )
      }).pipe(Effect.provide(EventStream.layer({ shards: 4, observers: [factory] })))
      expect(logs.map((log) => log.length)).toEqual([25, 25, 25, 25])
    }))

  it.effect("after shutdown a session's sends are dropped and counted", () =>
    Effect.gen(function*() {
      const { factory, logs } = logging(2)
      const { session, stream } = yield* Effect.gen(function*() {
        const stream = yield* EventStream.EventStream
        return { stream, session: stream.session("late") }
      }).pipe(Effect.provide(EventStream.layer({ shards: 2, observers: [factory] })))
      yield* session.send(traffic("late", 1))
      expect(session.unsafeSend(traffic("late", 2))).toBe("dropped")
      expect(logs.flat()).toHaveLength(0)
      expect((yield* stream.stats).dropped.closed).toBe(2)
    }))

  it.effect("layerNoop's sessions discard everything", () =>
    Effect.gen(function*() {
      const session = (yield* EventStream.EventStream).session("s")
      yield* session.send(traffic("s", 1))
      expect(session.unsafeSend(traffic("s", 2))).toBe("accepted")
    }).pipe(Effect.provide(EventStream.layerNoop)))
})
