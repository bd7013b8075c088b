/**
 * What the `mtg-events` commands share: the options that build the stream
 * and route the metrics, and running a command with those metrics.
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as PrometheusServer from "../../layers/PrometheusServer.js"
import type * as EventStream from "../EventStream.js"
import * as Address from "./Address.js"
import * as Metrics from "./Metrics.js"
import type * as Run from "./Run.js"

const PositiveInt = Schema.Number.pipe(Schema.int(), Schema.positive())

/** Decodes an option's value with `schema`; a bad value is a usage error naming the option. */
export const decodedWith = <A, I>(name: string, schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeEither(schema)
  return (value: I): Either.Either<A, ValidationError.ValidationError> =>
    Either.mapLeft(decode(value), (error) => {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
      return ValidationError.invalidValue(HelpDoc.p(`--${name}: ${issue?.message ?? error.message}`))
    })
}

/** A positive integer option. */
export const positiveInt = (name: string, description: string) =>
  Options.integer(name).pipe(
    Options.mapEffect(decodedWith(name, PositiveInt)),
    Options.withDescription(description)
  )

const address = (name: string, schema: Schema.Schema<Address.Address, string>, description: string) =>
  Options.text(name).pipe(
    Options.mapEffect(decodedWith(name, schema)),
    Options.withDescription(description),
    Options.withPseudoName("host:port"),
    Options.optional
  )

/** Options both commands share: how the stream is built and where the metrics go. */
export const options = {
  shards: positiveInt("shards", "Number of shards (default: one per CPU).").pipe(Options.optional),
  capacity: positiveInt("capacity", "Queue capacity of each shard (default: 1024).").pipe(Options.optional),
  overflow: Options.choice("overflow", ["suspend", "dropping", "sliding"]).pipe(
    Options.withDefault("suspend" as EventStream.Overflow),
    Options.withDescription("What a full shard does with a new event: wait, drop it, or drop the oldest.")
  ),
  serve: address(
    "serve",
    Address.Address,
    "Serve Prometheus metrics on http://host:port/metrics, during and after the run, until Ctrl-C."
  ),
  statsd: address("statsd", Address.WithPort, "Also send the metrics to a StatsD server over UDP.")
}

/** The values of the shared options. */
export type Values = {
  readonly [K in keyof typeof options]: (typeof options)[K] extends Options.Options<infer A> ? A : never
}

/** The stream settings the options ask for. */
export const streamSettings = (values: Values): Run.StreamSettings => ({
  shards: Option.getOrUndefined(values.shards),
  capacity: Option.getOrUndefined(values.capacity),
  overflow: values.overflow
})

/**
 * Runs `run` with the metrics the options ask for; with `--serve`, keeps
 * serving them afterwards until interrupted.
 */
export const withMetrics = <E>(
  values: Values,
  run: (metrics: Metrics.Metrics) => Effect.Effect<void, E>
): Effect.Effect<void, E | PrometheusServer.ServeError> =>
  Effect.scoped(Effect.gen(function*() {
    const metrics = yield* Metrics.make({ serve: values.serve, statsd: values.statsd })
    yield* run(metrics)
    yield* metrics.serveUntilInterrupted
  }))

