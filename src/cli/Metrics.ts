/**
 * The metrics of a CLI run: the Prometheus observer into its own registry,
 * served over HTTP with `--serve`, and a StatsD observer with `--statsd`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { Registry } from "prom-client"
import * as PrometheusServer from "../../layers/PrometheusServer.js"
import * as StreamMetrics from "../../layers/StreamMetrics.js"
import type * as EventStream from "../EventStream.js"
import type * as Observer from "../Observer.js"
import * as Prometheus from "../Prometheus.js"
import * as StatsD from "../StatsD.js"
import * as Address from "./Address.js"
import type * as Summary from "./Summary.js"

/** The metrics of a run. */
export interface Metrics {
  /** The observers that feed them. */
  readonly observers: ReadonlyArray<Observer.Factory>
  /** What runs beside the stream once it exists: its own counters in the registry. */
  readonly besideStream: Layer.Layer<never, never, EventStream.EventStream>
  /** Their largest counter and gauge series. */
  readonly topSeries: Effect.Effect<ReadonlyArray<Summary.Series>>
  /** With `--serve`, waits until interrupted while /metrics is still served; otherwise returns at once. */
  readonly serveUntilInterrupted: Effect.Effect<void>
}

/** Where the metrics go. */
export interface Options {
  readonly serve: Option.Option<Address.Address>
  readonly statsd: Option.Option<Address.Address>
}

/** Series the summary shows. */
const topCount = 5

/** The `count` largest counter and gauge series of `registry`, largest first. */
const topSeries = (registry: Registry, count: number): Effect.Effect<ReadonlyArray<Summary.Series>> =>
  Effect.tryPromise(() => registry.getMetricsAsJSON()).pipe(
    Effect.map((metrics) =>
      metrics
        // prom-client types `type` as a numeric enum; at run time it is the type's name.
        .filter((metric) => String(metric.type) === "counter" || String(metric.type) === "gauge")
        .flatMap((metric) =>
          metric.values.map(({ labels, value }): Summary.Series => {
            const pairs = Object.entries(labels).map(([key, label]) => `${key}="${label}"`)
            return { name: pairs.length === 0 ? metric.name : `${metric.name}{${pairs.join(",")}}`, value }
          })
        )
        .sort((a, b) => b.value - a.value)
        .slice(0, count)
    ),
    Effect.orElseSucceed(() => [])
  )

/** Sets up the metrics for the life of the scope; fails when `--serve` cannot listen. */
export const make = (options: Options): Effect.Effect<Metrics, PrometheusServer.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const prometheus = yield* Layer.build(Prometheus.layer())
    const { registry } = Context.get(prometheus, Prometheus.Metrics)
    const observers: Array<Observer.Factory> = [Effect.provide(Prometheus.observer, prometheus)]

    let serveUntilInterrupted: Effect.Effect<void> = Effect.void
    if (Option.isSome(options.serve)) {
      const server = yield* Layer.build(
        PrometheusServer.layer({ ...options.serve.value, path: "/metrics" }).pipe(
          Layer.provide(Layer.succeedContext(prometheus))
        )
      )
      const url = `http://${Address.format(Context.get(server, PrometheusServer.PrometheusServer))}/metrics`
      process.stderr.write(`metrics: serving ${url}\n`)
      serveUntilInterrupted = Effect.zipRight(
        Effect.sync(() => process.stderr.write(`metrics: still serving ${url}; Ctrl-C to stop\n`)),
        Effect.never
      )
    }
    if (Option.isSome(options.statsd)) {
      const statsd = yield* Layer.build(StatsD.layer(options.statsd.value))
      observers.push(Effect.provide(StatsD.observer, statsd))
      process.stderr.write(`metrics: sending to StatsD at udp://${Address.format(options.statsd.value)}\n`)
    }
    return {
      observers,
      besideStream: Layer.provide(StreamMetrics.layer, Layer.succeedContext(prometheus)),
      topSeries: topSeries(registry, topCount),
      serveUntilInterrupted
    }
  })
