/**
 * Layers that run servers beside the event stream.
 *
 * @since 0.1.0
 */

/** Serves the Prometheus metrics over HTTP. */
export * as PrometheusServer from "./PrometheusServer.js"

/** The event stream's own counters as Prometheus metrics. */
export * as StreamMetrics from "./StreamMetrics.js"
