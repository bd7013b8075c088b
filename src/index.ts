/**
 * mtg-events: the event stream of the mtg MTProto proxy for Effect.
 *
 * @since 0.1.0
 */

/** The session events, their constructors and codecs. */
export * as Event from "./Event.js"

/** The sharded event stream service and its layers. */
export * as EventStream from "./EventStream.js"

/** Observers of the stream. */
export * as Observer from "./Observer.js"

/** mtg's Prometheus metrics: the registry layer and its observer. */
export * as Prometheus from "./Prometheus.js"

/** mtg's StatsD metrics: the client layer and its observer. */
export * as StatsD from "./StatsD.js"

/** An observer that logs every event at debug level. */
export * as LogObserver from "./LogObserver.js"
