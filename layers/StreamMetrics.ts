/**
 * The event stream's own counters as Prometheus metrics, beside mtg's: what
 * was accepted, delivered, dropped and why, what is queued, and observer
 * failures. They are read from `EventStream.stats` when scraped, so they cost
 * nothing per event.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Counter, Gauge } from "prom-client"
import * as EventStream from "../src/EventStream.js"
import * as Prometheus from "../src/Prometheus.js"

/** A counter of the stream: its help text and how to read it from the stats. */
const counters = {
  stream_events_accepted_total: ["Events accepted into a shard queue.", (s: EventStream.Stats) => s.accepted],
  stream_events_delivered_total: ["Events handed to their shard's observers.", (s: EventStream.Stats) => s.delivered],
  stream_observer_failures_total: [
    "Observer handler runs that failed, died or threw; the event was skipped for that observer.",
    (s: EventStream.Stats) => s.observerFailures
  ]
} as const

const dropped = "stream_events_dropped_total"
const queued = "stream_events_queued"

/**
 * Registers the stream's metrics in the `Prometheus.Metrics` registry for the
 * life of the layer: `<prefix>_stream_events_accepted_total`,
 * `..._delivered_total`, `..._dropped_total{reason="closed|overflow|deadline"}`,
 * `<prefix>_stream_events_queued` and `<prefix>_stream_observer_failures_total`.
 */
export const layer: Layer.Layer<never, never, EventStream.EventStream | Prometheus.Metrics> = Layer.scopedDiscard(
  Effect.gen(function*() {
    const stream = yield* EventStream.EventStream
    const { name, registry } = yield* Prometheus.Metrics
    const read = (): EventStream.Stats => Effect.runSync(stream.stats)
    const registers = [registry]
    for (const [metric, [help, value]] of Object.entries(counters)) {
      new Counter({
        name: name(metric),
        help,
        registers,
        collect() {
          this.reset()
          this.inc(value(read()))
        }
      })
    }
    new Counter({
      name: name(dropped),
      help: "Events dropped: closed (sent during shutdown), overflow (dropping or sliding policy), deadline (not drained in time).",
      labelNames: ["reason"],
      registers,
      collect() {
        const stats = read()
        this.reset()
        for (const reason of ["closed", "overflow", "deadline"] as const) this.inc({ reason }, stats.dropped[reason])
      }
    })
    new Gauge({
      name: name(queued),
      help: "Events accepted and not yet delivered.",
      registers,
      collect() {
        this.set(read().queued)
      }
    })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const metric of [...Object.keys(counters), dropped, queued]) registry.removeSingleMetric(name(metric))
      })
    )
  })
)
