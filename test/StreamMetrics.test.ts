import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer } from "effect"
import { Event, EventStream, Observer, Prometheus } from "../src/index.js"
import { StreamMetrics } from "../layers/index.js"
import { parseExposition } from "./support/exposition.js"

const traffic = (n: number) => new Event.EventTraffic({ streamId: "s", timestamp: 0, traffic: n, isRead: true })

describe("StreamMetrics", () => {
  it.effect("exposes the stream's counters in the registry while the layer lives", () =>
    Effect.gen(function*() {
      const entered = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const stalling = Effect.succeed(Observer.make({
        eventTraffic: (e) =>
          e.traffic === 0
            ? Deferred.succeed(entered, undefined).pipe(Effect.zipRight(Deferred.await(release)))
            : e.traffic === 1 ? Effect.die("boom") : Effect.void
      }))
      const app = StreamMetrics.layer.pipe(
        Layer.provideMerge(EventStream.layer({ shards: 1, capacity: 2, overflow: "dropping", observers: [stalling] })),
        Layer.provideMerge(Prometheus.layer({ prefix: "proxy" }))
      )

      const { registry } = yield* Effect.gen(function*() {
        const stream = yield* EventStream.EventStream
        const { registry } = yield* Prometheus.Metrics
        yield* stream.send(traffic(0))
        yield* Deferred.await(entered)
        yield* stream.sendAll([1, 2, 3, 4, 5].map(traffic))
        const scraped = parseExposition(yield* Effect.promise(() => registry.metrics())).samples
        expect(scraped.get("proxy_stream_events_accepted_total")).toEqual({ "": 3 })
        expect(scraped.get("proxy_stream_events_delivered_total")).toEqual({ "": 1 })
        expect(scraped.get("proxy_stream_events_queued")).toEqual({ "": 2 })
        expect(scraped.get("proxy_stream_observer_failures_total")).toEqual({ "": 0 })
        expect(scraped.get("proxy_stream_events_dropped_total")).toEqual({
          "reason=closed": 0,
          "reason=overflow": 3,
          "reason=deadline": 0
        })
        yield* Deferred.succeed(release, undefined)
        return { registry }
      }).pipe(Effect.provide(app))
      // the layer is gone: its metrics left the registry with it, mtg's stay
      const after = parseExposition(yield* Effect.promise(() => registry.metrics())).help
      expect([...after.keys()].some((name) => name.startsWith("proxy_stream_"))).toBe(false)
      expect(after.has("proxy_client_connections")).toBe(true)
    }))
})
