/**
 * An observer that logs every event, for development: one `Debug` line per
 * event through Effect's `Logger`, the event's tag as the message and its
 * fields (`streamId`, `timestamp`, `remoteIp`...) as annotations. Debug lines
 * show only where the minimum log level allows them, e.g. with
 * `Logger.minimumLogLevel(LogLevel.Debug)`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Event from "./Event.js"
import * as Observer from "./Observer.js"

const log = (event: Event.Event): Effect.Effect<void> => {
  const { _tag, ...fields } = Event.encode(event) as { readonly _tag: Event.Tag }
  return Effect.annotateLogs(Effect.logDebug(_tag), fields)
}

/** The log observer's factory (it keeps no state). */
export const observer: Observer.Factory = Effect.succeed(Observer.makeEvery(log))
