/**
 * `mtg-events ingest`: reads JSON-lines events from a file or stdin, one
 * line at a time, and sends them through the stream into the metrics.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as Event from "../Event.js"
import * as Format from "./Format.js"
import * as JsonLines from "./JsonLines.js"
import * as Run from "./Run.js"
import * as Shared from "./Shared.js"

/** The input cannot be read. */
export class InputError extends Data.TaggedError("InputError")<{ readonly message: string }> {}

/** `--strict` met bad lines. */
export class BadLinesError extends Data.TaggedError("BadLinesError")<{ readonly message: string }> {}

/** Bad lines reported one by one; past this they are only counted. */
const reportedBadLines = 100

/** The bytes of `path`, or of stdin for `-`, and the size when known. */
const openInput = (path: string) =>
  Effect.gen(function*() {
    if (path === "-") return { bytes: NodeStream.stdin, size: undefined }
    const fs = yield* FileSystem.FileSystem
    const cannotRead = (reason: string) => new InputError({ message: `cannot read ${path}: ${reason}` })
    const failed = (error: PlatformError.PlatformError) =>
      cannotRead(
        error._tag === "SystemError" && error.reason === "NotFound"
          ? "no such file"
          : error._tag === "SystemError" && error.reason === "PermissionDenied"
          ? "permission denied"
          : error.message
      )
    const info = yield* Effect.mapError(fs.stat(path), failed)
    if (info.type !== "File") return yield* Effect.fail(cannotRead(`not a file (${info.type.toLowerCase()})`))
    const bytes = fs.stream(path, { chunkSize: 64 * 1024 }).pipe(Stream.mapError(failed))
    return { bytes, size: Number(info.size) }
  })

/** The events of `bytes`, in batches; bad lines are reported on stderr (the first ones) and skipped. */
const decodeLines = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  decoder: JsonLines.LineDecoder
): Stream.Stream<ReadonlyArray<Event.Event>, E> => {
  const report = (bad: ReadonlyArray<JsonLines.BadLine>): void => {
    bad.forEach(({ line, message }, i) => {
      const number = decoder.badLines - bad.length + i + 1
      if (number <= reportedBadLines) process.stderr.write(`ingest: line ${line}: ${message}\n`)
      if (number === reportedBadLines + 1) process.stderr.write(`ingest: further bad lines are only counted\n`)
    })
  }
  return bytes.pipe(
    Stream.map((chunk) => decoder.push(chunk)),
    Stream.concat(Stream.sync(() => decoder.end())),
    Stream.map((decoded) => {
      report(decoded.bad)
      return decoded.events
    }),
    Stream.filter((events) => events.length > 0)
  )
}

/** The `ingest` command. */
export const command = Command.make(
  "ingest",
  {
    file: Args.text({ name: "file|-" }).pipe(Args.withDescription("A JSON-lines file of events, or - for stdin.")),
    strict: Options.boolean("strict").pipe(Options.withDescription("Exit with status 1 when any line was bad.")),
    ...Shared.options
  },
  (values) =>
    Effect.gen(function*() {
      const input = yield* openInput(values.file)
      const decoder = new JsonLines.LineDecoder()
      yield* Shared.withMetrics(values, (metrics) =>
        Run.run({
          label: "ingest",
          title: `mtg-events ingest: ${values.file === "-" ? "stdin" : values.file}`,
          source: decodeLines(input.bytes, decoder),
          fraction: Effect.sync(() => (input.size ? decoder.bytes / input.size : undefined)),
          input: () => ({ lines: decoder.lines, badLines: decoder.badLines }),
          stream: Shared.streamSettings(values),
          observers: metrics.observers,
          besideStream: metrics.besideStream,
          topSeries: metrics.topSeries,
          summaryTo: process.stdout
        }))
      if (values.strict && decoder.badLines > 0) {
        return yield* new BadLinesError({ message: `${Format.count(decoder.badLines)} bad lines (--strict)` })
      }
    })
).pipe(Command.withDescription("Read JSON-lines events from a file or stdin and send them through the stream."))
