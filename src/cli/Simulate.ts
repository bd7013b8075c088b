/**
 * `mtg-events simulate`: generates a proxy workload and sends it through
 * the stream into the metrics.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Event from "../Event.js"
import * as Format from "./Format.js"
import * as JsonLines from "./JsonLines.js"
import * as LineWriter from "./LineWriter.js"
import * as Run from "./Run.js"
import * as Shared from "./Shared.js"
import { Workload } from "./Workload.js"

/** Events generated when neither `--events` nor `--duration` is given. */
export const defaultEvents = 1_000_000

/** Events per batch sent to the stream. */
const batchSize = 4096

const unitMillis = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** `10s`, `500ms`, `2m`, `1h`, or a number of seconds. */
const DurationFromText = Schema.transformOrFail(Schema.String, Schema.DurationFromSelf, {
  strict: true,
  decode: (text, _, ast) => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
    if (match === null) {
      return ParseResult.fail(
        new ParseResult.Type(ast, text, `expected a duration such as 10s, 500ms or 2m, got ${JSON.stringify(text)}`)
      )
    }
    const unit = (match[2] ?? "s") as keyof typeof unitMillis
    const millis = Number(match[1]) * unitMillis[unit]
    return ParseResult.succeed(Duration.millis(millis))
  },
  encode: (duration) => ParseResult.succeed(`${Duration.toMillis(duration)}ms`)
})

/**
 * The workload in batches stamped with the clock, winding down once
 * `deadline` (epoch milliseconds) has passed, each batch also written to
 * `writer` when there is one.
 */
const batches = (
  workload: Workload,
  deadline: number | undefined,
  writer: LineWriter.LineWriter | undefined
): Stream.Stream<ReadonlyArray<Event.Event>, LineWriter.WriteError> =>
  Stream.repeatEffectOption(Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    if (deadline !== undefined && now >= deadline) workload.end()
    const batch = workload.next(batchSize, now)
    if (batch.length === 0) return yield* Effect.fail(Option.none())
    if (writer !== undefined) yield* Effect.mapError(writer.write(JsonLines.encode(batch)), Option.some)
    return batch
  }))

const options = {
  sessions: Shared.positiveInt("sessions", "Sessions open at once.").pipe(Options.withDefault(5000)),
  events: Shared.positiveInt(
    "events",
    `Events to generate (default: ${Format.count(defaultEvents)}, or unbounded with --duration).`
  ).pipe(Options.optional),
  duration: Options.text("duration").pipe(
    Options.withPseudoName("duration"),
    Options.mapEffect(Shared.decodedWith("duration", DurationFromText)),
    Options.withDescription("Generate for this long (10s, 500ms, 2m), then finish the open sessions."),
    Options.optional
  ),
  seed: Options.integer("seed").pipe(
    Options.withDefault(1),
    Options.withDescription("Seed of the workload: the same seed gives the same events.")
  ),
  emit: Options.text("emit").pipe(
    Options.withPseudoName("file|-"),
    Options.withDescription(
      "Also write the events as JSON lines to a file, or to stdout with - (the summary then goes to stderr)."
    ),
    Options.optional
  ),
  ...Shared.options
}

/** The `simulate` command. */
export const command = Command.make("simulate", options, (values) =>
  Shared.withMetrics(values, (metrics) =>
    Effect.gen(function*() {
      const duration = Option.getOrUndefined(values.duration)
      const events = Option.getOrElse(values.events, () => (duration === undefined ? defaultEvents : undefined))
      const workload = new Workload({ seed: values.seed, sessions: values.sessions, events })
      const started = yield* Clock.currentTimeMillis
      const deadline = duration === undefined ? undefined : started + Duration.toMillis(duration)
      const emit = Option.getOrUndefined(values.emit)
      const writer = emit === undefined ? undefined : yield* LineWriter.open(emit)
      const fraction = Effect.map(Clock.currentTimeMillis, (now) =>
        events !== undefined
          ? workload.generated / events
          : deadline !== undefined
          ? (now - started) / (deadline - started)
          : undefined)
      const amount = events === undefined && duration !== undefined
        ? `for ${Duration.format(duration)}`
        : `${Format.count(events ?? 0)} events`
      yield* Run.run({
        label: "simulate",
        title: `mtg-events simulate: seed ${values.seed}, ${Format.count(values.sessions)} sessions, ${amount}`,
        source: batches(workload, deadline, writer),
        fraction,
        stream: Shared.streamSettings(values),
        observers: metrics.observers,
        besideStream: metrics.besideStream,
        topSeries: metrics.topSeries,
        summaryTo: emit === "-" ? process.stderr : process.stdout
      })
    }).pipe(Effect.scoped))).pipe(
    Command.withDescription("Simulate MTProto-proxy sessions and send their events through the stream.")
  )
