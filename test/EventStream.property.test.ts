import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import { Event, EventStream } from "../src/index.js"
import { type Entry, makeRecorder } from "./support/recorder.js"

const kinds = ["start", "dc", "traffic", "fronting", "replay", "finish", "limited", "blocked", "size"] as const

/** A concrete event of a kind; kinds that belong to no session get the empty stream id. */
const eventOf = (kind: (typeof kinds)[number], streamId: string, seq: number): Event.Event => {
  const base = { streamId, timestamp: seq }
  switch (kind) {
    case "start":
      return new Event.EventStart({ ...base, remoteIp: "10.0.0.1" })
    case "dc":
      return new Event.EventConnectedToDC({ ...base, remoteIp: "149.154.167.51", dc: 2 })
    case "traffic":
      return new Event.EventTraffic({ ...base, traffic: seq, isRead: seq % 2 === 0 })
    case "fronting":
      return new Event.EventDomainFronting(base)
    case "replay":
      return new Event.EventReplayAttack(base)
    case "finish":
      return new Event.EventFinish(base)
    case "limited":
      return new Event.EventConcurrencyLimited({ ...base, streamId: "" })
    case "blocked":
      return new Event.EventIPBlocklisted({ ...base, streamId: "", remoteIp: "::1", isBlockList: true })
    case "size":
      return new Event.EventIPListSize({ ...base, streamId: "", size: seq, isBlockList: false })
  }
}

const workload = FastCheck.record({
  shards: FastCheck.integer({ min: 1, max: 8 }),
  capacity: FastCheck.integer({ min: 1, max: 32 }),
  factories: FastCheck.integer({ min: 1, max: 3 }),
  effectful: FastCheck.boolean(),
  mode: FastCheck.constantFrom("send", "sendAll", "unsafeSend"),
  senders: FastCheck.array(
    FastCheck.array(
      FastCheck.record({ stream: FastCheck.integer({ min: 0, max: 5 }), kind: FastCheck.constantFrom(...kinds) }),
      { maxLength: 80 }
    ),
    { minLength: 1, maxLength: 4 }
  )
})

describe("EventStream properties", () => {
  it.effect.prop(
    "order per stream, one instance per stream, exactly-once delivery and shutdown, identical fan-out",
    [workload],
    ([w]) =>
      Effect.gen(function*() {
        // Each sender owns its streams, so "send order" of a stream is well defined.
        let seq = 0
        const scripts = w.senders.map((steps, sender) =>
          steps.map(({ kind, stream }) => eventOf(kind, `${sender}:${stream}`, seq++))
        )
        const seqOf = new Map(scripts.flat().map((event) => [event as Event.Event, event.timestamp]))
        const { factories, log } = makeRecorder({ factories: w.factories, effectful: w.effectful })

        const stats = yield* Effect.gen(function*() {
          const stream = yield* EventStream.EventStream
          yield* Effect.forEach(
            scripts,
            (script) =>
              w.mode === "sendAll"
                ? stream.sendAll(script)
                : Effect.forEach(
                  script,
                  (event) => w.mode === "send" || stream.unsafeSend(event) === "full" ? stream.send(event) : Effect.void,
                  { discard: true }
                ),
            { concurrency: "unbounded", discard: true }
          )
          return yield* Effect.suspend(() => stream.stats)
        }).pipe(
          Effect.provide(EventStream.layer({ shards: w.shards, capacity: w.capacity, observers: factories }))
        )
        // The layer's scope is closed here: everything accepted must have been delivered.

        expect(stats.accepted + stats.dropped.closed + stats.dropped.overflow).toBe(seq)
        const byInstance = new Map<string, Array<Entry>>()
        for (const entry of log) {
          const key = `${entry.factory}/${entry.instance}`
          byInstance.set(key, [...(byInstance.get(key) ?? []), entry])
        }
        expect(byInstance.size).toBe(w.factories * w.shards)

        for (let factory = 0; factory < w.factories; factory++) {
          const delivered: Array<number> = []
          const instanceOfStream = new Map<string, number>()
          for (let instance = 0; instance < w.shards; instance++) {
            const entries = byInstance.get(`${factory}/${instance}`)!
            // shutdown exactly once, and after the instance's last event
            expect(entries.filter((e) => e.event === "shutdown")).toHaveLength(1)
            expect(entries.at(-1)!.event).toBe("shutdown")
            const lastSeqOfStream = new Map<string, number>()
            for (const { event } of entries) {
              if (event === "shutdown") continue
              const s = seqOf.get(event)!
              delivered.push(s)
              if (event.streamId === "") continue
              // order per stream
              expect(s).toBeGreaterThan(lastSeqOfStream.get(event.streamId) ?? -1)
              lastSeqOfStream.set(event.streamId, s)
              // one instance per stream, and it is mtg's shard
              expect(instanceOfStream.get(event.streamId) ?? instance).toBe(instance)
              instanceOfStream.set(event.streamId, instance)
              expect(instance).toBe(EventStream.shardOf(event.streamId, w.shards))
            }
          }
          // exactly once: with the default `suspend` policy nothing is dropped
          expect(delivered.sort((a, b) => a - b)).toEqual(Array.from({ length: seq }, (_, i) => i))
        }

        // every member of a fan-out sees the same sequence
        for (let instance = 0; instance < w.shards; instance++) {
          const sequence = (factory: number) => byInstance.get(`${factory}/${instance}`)!.map((e) => e.event)
          for (let factory = 1; factory < w.factories; factory++) {
            expect(sequence(factory)).toEqual(sequence(0))
          }
        }
      }),
    { fastCheck: { numRuns: 300 } }
  )
})
