import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck, Fiber, Option } from "effect"
import { type Event, EventStream } from "../src/index.js"
import { ShardQueue } from "../src/internal/shardQueue.js"
import { openStream } from "./support/stream.js"
import { makeStalled, traffic, turns, withinTurns } from "./support/turns.js"

/** Sends `events` one path or another; for `unsafeSend`, what each call returned. */
const sendVia = (stream: EventStream.Service, path: "send" | "sendAll" | "unsafeSend", events: ReadonlyArray<Event.Event>) =>
  path === "sendAll"
    ? Effect.as(stream.sendAll(events), [])
    : path === "send"
    ? Effect.as(Effect.forEach(events, stream.send, { discard: true }), [])
    : Effect.sync(() => events.map(stream.unsafeSend))

describe("overflow policies under a stalled observer", () => {
  it.effect.prop(
    "dropping and sliding never hold a sender and count exactly what they drop",
    {
      shards: FastCheck.integer({ min: 1, max: 4 }),
      capacity: FastCheck.integer({ min: 1, max: 16 }),
      overflow: FastCheck.constantFrom("dropping" as const, "sliding" as const),
      path: FastCheck.constantFrom("send" as const, "sendAll" as const, "unsafeSend" as const),
      streams: FastCheck.array(FastCheck.integer({ min: 0, max: 7 }), { maxLength: 120 })
    },
    ({ capacity, overflow, path, shards, streams }) =>
      Effect.gen(function*() {
        const stalled = yield* makeStalled(shards)
        const { close, stream } = yield* openStream({ shards, capacity, overflow, observers: [stalled.factory] })
        yield* stalled.stallAll(stream)

        const events = streams.map((s, seq) => traffic(`s${s}`, seq))
        const sent = yield* withinTurns(sendVia(stream, path, events), 10)
        // the senders never waited: the whole send finished while every observer was stalled
        expect(Option.isSome(sent)).toBe(true)

        const perShard = Array.from({ length: shards }, (_, shard) =>
          events.filter((e) => EventStream.shardOf(e.streamId, shards) === shard).map((e) => (e as Event.EventTraffic).traffic))
        const expectedDropped = perShard.reduce((n, seqs) => n + Math.max(0, seqs.length - capacity), 0)
        const kept = perShard.map((seqs) => overflow === "dropping" ? seqs.slice(0, capacity) : seqs.slice(-capacity))

        const before = yield* stream.stats
        expect(before.dropped.overflow).toBe(expectedDropped)
        expect(before.accepted + before.dropped.overflow).toBe(shards + events.length)
        expect(before.queued).toBe(kept.reduce((n, k) => n + k.length, 0))
        if (path === "unsafeSend") {
          const refused = Option.getOrThrow(sent).filter((offer) => offer === "dropped").length
          expect(refused).toBe(overflow === "dropping" ? expectedDropped : 0)
        }

        yield* stalled.release
        yield* close
        const after = yield* stream.stats
        expect(stalled.seen).toEqual(kept)
        expect(after.delivered).toBe(after.accepted)
        expect(after.queued).toBe(0)
        expect(after.dropped).toEqual({ closed: 0, overflow: expectedDropped, deadline: 0 })
        expect(stalled.shutdowns()).toBe(shards)
      }),
    { fastCheck: { numRuns: 150 } }
  )

  it.effect.prop(
    "suspend holds senders exactly while a shard got more than it holds, then delivers all in order",
    {
      shards: FastCheck.integer({ min: 1, max: 3 }),
      capacity: FastCheck.integer({ min: 1, max: 8 }),
      senders: FastCheck.array(FastCheck.array(FastCheck.integer({ min: 0, max: 5 }), { maxLength: 40 }), {
        minLength: 1,
        maxLength: 4
      })
    },
    ({ capacity, senders, shards }) =>
      Effect.gen(function*() {
        const stalled = yield* makeStalled(shards)
        const { close, stream } = yield* openStream({ shards, capacity, observers: [stalled.factory] })
        yield* stalled.stallAll(stream)

        let seq = 0
        const scripts = senders.map((streams, sender) => streams.map((s) => traffic(`${sender}:${s}`, seq++)))
        const perShard = Array.from({ length: shards }, (_, shard) =>
          scripts.flat().filter((e) => EventStream.shardOf(e.streamId, shards) === shard).length)
        const sending = yield* Effect.fork(Effect.forEach(
          scripts,
          (script) => Effect.forEach(script, stream.send, { discard: true }),
          { concurrency: "unbounded", discard: true }
        ))
        yield* turns(200)

        // while stalled, the senders are held exactly when some shard got more than it holds
        const overfull = perShard.some((n) => n > capacity)
        expect(Option.isNone(yield* Fiber.poll(sending))).toBe(overfull)
        const held = yield* stream.stats
        expect(held.queued).toBeLessThanOrEqual(shards * capacity)
        expect(held.dropped.overflow).toBe(0)

        yield* stalled.release
        yield* Fiber.join(sending)
        yield* close
        expect(stalled.seen.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: seq }, (_, i) => i))
        for (const seen of stalled.seen) {
          for (const script of scripts) {
            const mine = new Set(script.map((e) => (e as Event.EventTraffic).traffic))
            const order = seen.filter((s) => mine.has(s))
            expect(order).toEqual([...order].sort((a, b) => a - b))
          }
        }
        const after = yield* stream.stats
        expect(after.accepted).toBe(shards + seq)
        expect(after.delivered).toBe(after.accepted)
        expect(after.dropped).toEqual({ closed: 0, overflow: 0, deadline: 0 })
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect("suspend: a held sender goes on once the observer takes the next batch", () =>
    Effect.gen(function*() {
      const stalled = yield* makeStalled(1)
      const { close, stream } = yield* openStream({ shards: 1, capacity: 4, observers: [stalled.factory] })
      yield* stalled.stallAll(stream)
      const events = Array.from({ length: 10 }, (_, i) => traffic("s", i))
      expect(Option.isNone(yield* withinTurns(stream.sendAll(events.slice(0, 5)), 200))).toBe(true)
      // interrupted while held: the fifth event was withdrawn, four are queued
      expect((yield* stream.stats).accepted).toBe(1 + 4)
      yield* stalled.release
      yield* stream.sendAll(events.slice(4))
      yield* close
      expect(stalled.seen).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
      expect((yield* stream.stats).dropped).toEqual({ closed: 0, overflow: 0, deadline: 0 })
    }))
})

describe("ShardQueue races", () => {
  it.effect("a full offer whose room appears before it waits is accepted at once", () =>
    Effect.gen(function*() {
      const queue = new ShardQueue<number>(1, "suspend")
      expect(queue.unsafeOffer(1)).toBe("accepted")
      expect(queue.unsafeOffer(2)).toBe("full")
      // the consumer drains between the full offer and the wait
      const batch = yield* queue.take
      expect(batch?.items.slice(batch.start, batch.end)).toEqual([1])
      expect(Option.isSome(yield* withinTurns(queue.offerWait(2), 10))).toBe(true)
      expect(queue.size).toBe(1)
    }))
})
