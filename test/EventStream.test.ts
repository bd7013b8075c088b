import { describe, expect, it } from "@effect/vitest"
import { availableParallelism } from "node:os"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Scope, TestClock } from "effect"
import { Event, EventStream, Observer } from "../src/index.js"
import { makeRecorder } from "./support/recorder.js"
import { captureLogs, openStream } from "./support/stream.js"

const traffic = (streamId: string, n: number) => new Event.EventTraffic({ streamId, timestamp: 0, traffic: n, isRead: true })

/** Yields until `fiber` is suspended (waiting), so a test knows a send is blocked. */
const untilSuspended = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      const status = yield* Fiber.status(fiber)
      if (status._tag === "Suspended") return
      yield* Effect.yieldNow()
    }
    throw new Error("fiber never suspended")
  })

/**
 * One shard with capacity 2 whose observer blocks on the event with traffic 0
 * until `release` completes: a setup where the queue fills up.
 */
const blockedShard = Effect.gen(function*() {
  const entered = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  const seen: Array<number> = []
  let shutdowns = 0
  const observer = Observer.make({
    eventTraffic: (e) =>
      e.traffic === 0
        ? Deferred.succeed(entered, undefined).pipe(Effect.zipRight(Deferred.await(release)), Effect.zipRight(Effect.sync(() => seen.push(0))))
        : Effect.sync(() => seen.push(e.traffic)),
    shutdown: Effect.sync(() => shutdowns++)
  })
  const { close, stream } = yield* openStream({ shards: 1, capacity: 2, observers: [Effect.succeed(observer)] })
  yield* stream.send(traffic("s", 0))
  yield* Deferred.await(entered)
  yield* stream.send(traffic("s", 1))
  yield* stream.send(traffic("s", 2))
  return { stream, close, release, seen, shutdowns: () => shutdowns }
})

describe("EventStream", () => {
  it.effect("a send waits while its shard is full (backpressure), then goes through", () =>
    Effect.gen(function*() {
      const { close, release, seen, stream } = yield* blockedShard
      const blocked = yield* Effect.fork(stream.send(traffic("s", 3)))
      yield* untilSuspended(blocked)
      expect(Option.isNone(yield* Fiber.poll(blocked))).toBe(true)
      expect(stream.unsafeSend(traffic("s", 99))).toBe("full")
      expect((yield* stream.stats).accepted).toBe(3)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(blocked)
      yield* close
      expect(seen).toEqual([0, 1, 2, 3])
      expect((yield* stream.stats).dropped).toEqual({ closed: 0, overflow: 0, deadline: 0 })
    }))

  it.effect("an interrupted send delivers nothing and leaves the stream healthy", () =>
    Effect.gen(function*() {
      const { close, release, seen, stream } = yield* blockedShard
      const blocked = yield* Effect.fork(stream.send(traffic("s", 3)))
      yield* untilSuspended(blocked)
      yield* Fiber.interrupt(blocked)
      yield* Deferred.succeed(release, undefined)
      yield* stream.send(traffic("s", 4))
      yield* close
      expect(seen).toEqual([0, 1, 2, 4])
      const stats = yield* stream.stats
      expect(stats.accepted).toBe(4)
      expect(stats.delivered).toBe(4)
    }))

  it.effect("shutdown releases blocked senders, drains what was accepted, and counts the rest", () =>
    Effect.gen(function*() {
      const { close, release, seen, shutdowns, stream } = yield* blockedShard
      const blocked = yield* Effect.fork(stream.send(traffic("s", 3)))
      yield* untilSuspended(blocked)
      const closing = yield* Effect.fork(close)
      // the blocked sender is released while the observer is still busy
      yield* Fiber.join(blocked)
      expect(shutdowns()).toBe(0)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(closing)
      expect(seen).toEqual([0, 1, 2])
      expect(shutdowns()).toBe(1)
      const stats = yield* stream.stats
      expect(stats.dropped.closed).toBe(1)
      expect(stats.delivered).toBe(3)
    }))

  it.effect("send after shutdown returns at once, delivers nothing and is counted", () =>
    Effect.gen(function*() {
      const { factories, log } = makeRecorder({ factories: 1 })
      const { close, stream } = yield* openStream({ shards: 2, observers: factories })
      yield* stream.send(traffic("a", 1))
      yield* close
      yield* stream.send(traffic("a", 2))
      yield* stream.sendAll([traffic("b", 3), traffic("c", 4)])
      expect(stream.unsafeSend(traffic("a", 5))).toBe("dropped")
      expect(log.filter((e) => e.event !== "shutdown")).toHaveLength(1)
      expect((yield* stream.stats).dropped.closed).toBe(4)
    }))

  it.effect("the drain deadline bounds shutdown; what it cuts off is counted and logged", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const stuck = yield* Deferred.make<void>()
      let shutdowns = 0
      const observer = Observer.make({
        eventTraffic: (e) => e.traffic === 0 ? Deferred.succeed(stuck, undefined).pipe(Effect.zipRight(Effect.never)) : Effect.void,
        shutdown: Effect.sync(() => shutdowns++)
      })
      yield* Effect.gen(function*() {
        const { close, stream } = yield* openStream({
          shards: 1,
          capacity: 16,
          drainTimeout: "3 seconds",
          observers: [Effect.succeed(observer)]
        })
        yield* stream.sendAll([0, 1, 2, 3, 4].map((n) => traffic("s", n)))
        yield* Deferred.await(stuck)
        const closing = yield* Effect.fork(close)
        yield* TestClock.adjust("2 seconds")
        expect(Option.isNone(yield* Fiber.poll(closing))).toBe(true)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(closing)
        const stats = yield* stream.stats
        expect(stats.delivered).toBe(1)
        expect(stats.dropped.deadline).toBe(4)
        expect(stats.queued).toBe(0)
        expect(shutdowns).toBe(1)
      }).pipe(Effect.provide(logs.layer))
      expect(logs.lines.some((l) => l.level === "WARN" && /4 accepted events not delivered/.test(l.message))).toBe(true)
    }))

  it.effect("a failing, dying or throwing handler is isolated, logged and counted; the others go on", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { factories, log } = makeRecorder({ factories: 1 })
      const faulty = Effect.succeed(Observer.make({
        eventTraffic: (e) => {
          if (e.traffic % 3 === 0) throw new Error(`thrown ${e.traffic}`)
          return e.traffic % 3 === 1 ? Effect.die(new Error(`died ${e.traffic}`)) : Effect.yieldNow().pipe(Effect.zipRight(Effect.dieMessage(`late ${e.traffic}`)))
        }
      }))
      const faultySync = Effect.succeed(Observer.sync({
        eventTraffic: () => {
          throw new Error("sync handler threw")
        }
      }))
      const stats = yield* Effect.gen(function*() {
        const stream = yield* EventStream.EventStream
        yield* stream.sendAll(Array.from({ length: 9 }, (_, i) => traffic(`s${i % 2}`, i)))
        return stream.stats
      }).pipe(
        Effect.provide(EventStream.layer({ shards: 2, observers: [faulty, factories[0]!, faultySync] })),
        Effect.flatten,
        Effect.provide(logs.layer)
      )
      expect(log.filter((e) => e.event !== "shutdown")).toHaveLength(9)
      expect(stats.observerFailures).toBe(18)
      expect(stats.delivered).toBe(9)
      const errors = logs.lines.filter((l) => l.level === "ERROR")
      expect(errors).toHaveLength(18)
      expect(errors.map((l) => l.cause).join("\n")).toMatch(/thrown 3[\s\S]*/)
      for (const text of ["thrown 0", "died 1", "late 2", "sync handler threw"]) {
        expect(errors.some((l) => l.cause.includes(text))).toBe(true)
      }
    }))

  it.effect("a failing observer never stalls senders", () =>
    Effect.gen(function*() {
      const dying = Effect.succeed(Observer.make({ eventTraffic: () => Effect.die("always") }))
      const stats = yield* Effect.gen(function*() {
        const stream = yield* EventStream.EventStream
        yield* stream.sendAll(Array.from({ length: 500 }, (_, i) => traffic("s", i)))
        return stream.stats
      }).pipe(
        Effect.provide(EventStream.layer({ shards: 1, capacity: 4, observers: [dying] })),
        Effect.flatten,
        Effect.provide(captureLogs().layer)
      )
      expect(stats.delivered).toBe(500)
      expect(stats.observerFailures).toBe(500)
    }))

  it.effect("events of no session are spread over the shards, not piled on one", () =>
    Effect.gen(function*() {
      const { factories, log } = makeRecorder({ factories: 1 })
      yield* Effect.flatMap(EventStream.EventStream, (stream) =>
        stream.sendAll(Array.from({ length: 100 }, () => new Event.EventConcurrencyLimited({ streamId: "", timestamp: 0 })))).pipe(
          Effect.provide(EventStream.layer({ shards: 4, observers: factories }))
        )
      const perInstance = [0, 1, 2, 3].map((i) => log.filter((e) => e.instance === i && e.event !== "shutdown").length)
      expect(perInstance).toEqual([25, 25, 25, 25])
    }))

  it.effect("shards batch: the worker takes what queued up while it was busy, not one event at a time", () =>
    Effect.gen(function*() {
      let batches = 0
      let inBatch = false
      const observer = Observer.sync({
        eventTraffic: () => {
          if (inBatch) return
          inBatch = true
          batches++
          queueMicrotask(() => (inBatch = false))
        }
      })
      yield* Effect.flatMap(EventStream.EventStream, (stream) =>
        stream.sendAll(Array.from({ length: 10_000 }, (_, i) => traffic("s", i)))).pipe(
          Effect.provide(EventStream.layer({ shards: 1, capacity: 256, observers: [Effect.succeed(observer)] }))
        )
      expect(batches).toBeGreaterThan(0)
      expect(10_000 / batches).toBeGreaterThanOrEqual(64)
    }))

  it.effect("observer factories run once per shard in the stream's scope; their resources outlive shutdown", () =>
    Effect.gen(function*() {
      const order: Array<string> = []
      const factory = Effect.gen(function*() {
        yield* Effect.acquireRelease(Effect.sync(() => order.push("acquire")), () => Effect.sync(() => order.push("release")))
        return Observer.make({ shutdown: Effect.sync(() => order.push("shutdown")) })
      })
      yield* Effect.void.pipe(Effect.provide(EventStream.layer({ shards: 2, observers: [factory] })))
      expect(order).toEqual(["acquire", "acquire", "shutdown", "shutdown", "release", "release"])
    }))

  it.effect("no observers means a noop observer; shards default to the CPU count", () =>
    Effect.gen(function*() {
      const stream = yield* EventStream.EventStream
      expect(stream.shards).toBe(availableParallelism())
      yield* stream.send(traffic("s", 1))
      expect((yield* stream.stats).accepted).toBe(1)
    }).pipe(Effect.provide(EventStream.layer())))

  it.effect("layerNoop discards everything", () =>
    Effect.gen(function*() {
      yield* EventStream.send(traffic("s", 1))
      expect((yield* EventStream.EventStream).unsafeSend(traffic("s", 2))).toBe("accepted")
    }).pipe(Effect.provide(EventStream.layerNoop)))

  it.effect("the accessor sends through the stream in context", () =>
    Effect.gen(function*() {
      const { factories, log } = makeRecorder({ factories: 1 })
      yield* EventStream.send(traffic("s", 7)).pipe(Effect.provide(EventStream.layer({ shards: 1, observers: factories })))
      expect(log.map((e) => e.event === "shutdown" ? "shutdown" : e.event._tag)).toEqual(["EventTraffic", "shutdown"])
    }))

  it.effect.each([{ shards: 0 }, { capacity: -1 }, { shards: 1.5 }])("invalid options die with a clear message: %j", (options) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(EventStream.make(options)))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toMatch(/must be a positive integer/)
    }))

  it.effect("closing the scope twice shuts observers down once", () =>
    Effect.gen(function*() {
      const { factories, log } = makeRecorder({ factories: 2 })
      const scope = yield* Scope.make()
      yield* Scope.extend(EventStream.make({ shards: 3, observers: factories }), scope)
      yield* Scope.close(scope, Exit.void)
      yield* Scope.close(scope, Exit.void)
      expect(log.filter((e) => e.event === "shutdown")).toHaveLength(6)
    }))
})
