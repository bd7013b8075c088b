import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, FastCheck, Fiber, Logger, LogLevel, Option, TestClock } from "effect"
import { type Event, EventStream, Observer } from "../src/index.js"
import { openStream } from "./support/stream.js"
import { traffic, turns, withinTurns } from "./support/turns.js"

/** What a handler does with an event: handle it, fail, die, throw, take a few turns first, or die after a turn. */
type Fault = "ok" | "fail" | "die" | "throw" | "slow" | "late"

const faults: ReadonlyArray<Fault> = ["ok", "fail", "die", "throw", "slow", "late"]

/** Sends a script one way or another. */
type Path = "send" | "sendAll" | "session" | "unsafeSend"

/**
 * Observer factories that log what each instance handled and misbehave on the
 * events their plan says: `plan[seq % plan.length]`. `sync` factories make
 * `Observer.sync` observers, which can only throw.
 */
const makeFaulty = (plans: ReadonlyArray<{ readonly sync: boolean; readonly plan: ReadonlyArray<Fault> }>) => {
  const handled: Array<Array<Array<number>>> = plans.map(() => [])
  const shutdowns: Array<Array<number>> = plans.map(() => [])
  let failures = 0
  const factories = plans.map(({ plan, sync }, factory) =>
    Effect.sync(() => {
      const instance = handled[factory]!.push([]) - 1
      shutdowns[factory]!.push(0)
      const log = handled[factory]![instance]!
      const shutdown = Effect.sync(() => shutdowns[factory]![instance]!++)
      const faultOf = (seq: number): Fault => {
        const fault = plan[seq % plan.length]!
        return sync && fault !== "ok" ? "throw" : fault
      }
      if (sync) {
        return Observer.sync({
          eventTraffic: (e) => {
            log.push(e.traffic)
            if (faultOf(e.traffic) === "throw") {
              failures++
              throw new Error(`thrown ${e.traffic}`)
            }
          },
          shutdown
        })
      }
      return Observer.make({
        eventTraffic: (e) => {
          log.push(e.traffic)
          switch (faultOf(e.traffic)) {
            case "ok":
              return Effect.void
            case "slow":
              return turns(1 + (e.traffic % 3))
            case "fail":
              failures++
              // handlers are typed infallible; a failure still gets through a cast or from untyped code
              return Effect.fail(`failed ${e.traffic}`) as unknown as Effect.Effect<void>
            case "die":
              failures++
              return Effect.die(`died ${e.traffic}`)
            case "throw":
              failures++
              throw new Error(`thrown ${e.traffic}`)
            case "late":
              failures++
              return Effect.zipRight(Effect.yieldNow(), Effect.dieMessage(`died late ${e.traffic}`))
          }
        },
        shutdown
      })
    })
  )
  return { factories, handled, shutdowns, failures: () => failures }
}

const sendScript = (stream: EventStream.Service, path: Path, script: ReadonlyArray<Event.Event>) => {
  switch (path) {
    case "send":
      return Effect.forEach(script, stream.send, { discard: true })
    case "sendAll":
      return stream.sendAll(script)
    case "session":
      return Effect.forEach(script, (event) => stream.session(event.streamId).send(event), { discard: true })
    case "unsafeSend":
      // only under `dropping` and `sliding`, where a refused event was dropped and counted
      return Effect.forEach(script, (event) => Effect.sync(() => stream.unsafeSend(event)), { discard: true })
  }
}

const quiet = Logger.withMinimumLogLevel(LogLevel.None)

describe("faults", () => {
  it.effect.prop(
    "observers that fail, die, throw or dawdle, concurrent senders and a racing shutdown: nothing hangs, nothing is lost",
    {
      shards: FastCheck.integer({ min: 1, max: 4 }),
      capacity: FastCheck.integer({ min: 1, max: 16 }),
      overflow: FastCheck.constantFrom("suspend" as const, "dropping" as const, "sliding" as const),
      observers: FastCheck.array(
        FastCheck.record({
          sync: FastCheck.boolean(),
          plan: FastCheck.array(FastCheck.constantFrom(...faults), { minLength: 1, maxLength: 7 })
        }),
        { minLength: 1, maxLength: 3 }
      ),
      senders: FastCheck.array(
        FastCheck.record({
          path: FastCheck.constantFrom<Path>("send", "sendAll", "session", "unsafeSend"),
          streams: FastCheck.array(FastCheck.integer({ min: 0, max: 5 }), { maxLength: 60 })
        }),
        { minLength: 1, maxLength: 4 }
      ),
      closeAfter: FastCheck.integer({ min: 0, max: 40 })
    },
    ({ capacity, closeAfter, observers, overflow, senders, shards }) =>
      Effect.gen(function*() {
        const faulty = makeFaulty(observers)
        const { close, stream } = yield* openStream({ shards, capacity, overflow, observers: faulty.factories })
        let seq = 0
        const scripts = senders.map(({ path, streams }, sender) => ({
          path: path === "unsafeSend" && overflow === "suspend" ? "send" as const : path,
          events: streams.map((s) => traffic(`${sender}:${s}`, seq++))
        }))
        const sending = yield* Effect.fork(Effect.forEach(
          scripts,
          ({ events, path }) => sendScript(stream, path, events),
          { concurrency: "unbounded", discard: true }
        ))
        yield* turns(closeAfter)
        // the shutdown races the senders: it must release them, drain, and shut every observer down once
        const done = yield* withinTurns(Effect.zip(close, Fiber.join(sending), { concurrent: true }), 20_000)
        expect(Option.isSome(done)).toBe(true)

        const stats = yield* stream.stats
        expect(stats.accepted + stats.dropped.closed + stats.dropped.overflow).toBe(seq)
        expect(stats.delivered).toBe(stats.accepted)
        expect(stats.queued).toBe(0)
        expect(stats.dropped.deadline).toBe(0)
        expect(stats.observerFailures).toBe(faulty.failures())
        if (overflow === "suspend") expect(stats.dropped.overflow).toBe(0)

        for (let factory = 0; factory < observers.length; factory++) {
          expect(faulty.shutdowns[factory]).toEqual(Array.from({ length: shards }, () => 1))
          const instances = faulty.handled[factory]!
          // every observer was handed every delivered event, once
          expect(instances.reduce((n, log) => n + log.length, 0)).toBe(stats.delivered)
          // in each sender's order, per stream
          for (const log of instances) {
            for (const { events } of scripts) {
              const mine = new Set(events.map((e) => (e as Event.EventTraffic).traffic))
              const order = log.filter((s) => mine.has(s))
              expect(order).toEqual([...order].sort((a, b) => a - b))
            }
          }
        }
      }).pipe(quiet),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect.prop(
    "an observer stuck for good: shutdown ends at the drain deadline, counts what it cut off, shuts every observer down once",
    {
      shards: FastCheck.integer({ min: 1, max: 3 }),
      fanOut: FastCheck.integer({ min: 1, max: 3 }),
      stuckAt: FastCheck.integer({ min: 0, max: 30 }),
      streams: FastCheck.array(FastCheck.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 60 })
    },
    ({ fanOut, shards, streams, stuckAt }) =>
      Effect.gen(function*() {
        const stuck = yield* Deferred.make<void>()
        const events = streams.map((s, seq) => traffic(`s${s}`, seq))
        const stuckSeq = stuckAt % events.length
        const shutdowns: Array<number> = []
        const factory = Effect.sync(() => {
          const instance = shutdowns.push(0) - 1
          return Observer.make({
            eventTraffic: (e) =>
              e.traffic === stuckSeq ? Deferred.succeed(stuck, undefined).pipe(Effect.zipRight(Effect.never)) : Effect.void,
            shutdown: Effect.sync(() => shutdowns[instance]!++)
          })
        })
        const { close, stream } = yield* openStream({
          shards,
          drainTimeout: "2 seconds",
          observers: Array.from({ length: fanOut }, () => factory)
        })
        yield* stream.sendAll(events)
        yield* Deferred.await(stuck)
        const closing = yield* Effect.fork(close)
        yield* turns(10)
        expect(Option.isNone(yield* Fiber.poll(closing))).toBe(true)
        // the deadline, then the observers' shutdown deadline, both on the test clock
        yield* TestClock.adjust("2 seconds")
        yield* TestClock.adjust("2 seconds")
        expect(Option.isSome(yield* withinTurns(Fiber.join(closing), 1_000))).toBe(true)

        const stats = yield* stream.stats
        expect(stats.accepted).toBe(events.length)
        expect(stats.delivered + stats.dropped.deadline).toBe(stats.accepted)
        if (fanOut === 1) {
          // one observer: exactly the events queued behind the stuck one on its shard were cut off
          const stuckShard = EventStream.shardOf(events[stuckSeq]!.streamId, shards)
          const behind = events.filter((e, seq) => seq > stuckSeq && EventStream.shardOf(e.streamId, shards) === stuckShard)
          expect(stats.dropped.deadline).toBe(behind.length)
        }
        expect(stats.queued).toBe(0)
        expect(shutdowns).toEqual(Array.from({ length: shards * fanOut }, () => 1))
      }).pipe(quiet),
    { fastCheck: { numRuns: 60 } }
  )
})
