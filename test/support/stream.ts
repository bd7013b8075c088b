import { Context, Effect, Exit, Layer, Logger, Scope } from "effect"
import { EventStream } from "../../src/index.js"

/** Builds a stream in a scope of its own, so a test can close it when it wants. */
export const openStream = <const F extends EventStream.Factories>(options: EventStream.Options<F>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(EventStream.layer(options), scope)
    return { stream: Context.get(context, EventStream.EventStream), close: Scope.close(scope, Exit.void) }
  })

/** A logger that keeps what is logged, for asserting on it. */
export const captureLogs = () => {
  const lines: Array<{ readonly level: string; readonly message: string; readonly cause: string }> = []
  const logger = Logger.make(({ cause, logLevel, message }) => {
    lines.push({ level: logLevel.label, message: String(message), cause: String(cause) })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}
