#!/usr/bin/env node
/**
 * The `mtg-events` command line. Exit status: 0 when all went well or the run
 * was interrupted (Ctrl-C), 1 on an error (or bad lines with `ingest
 * --strict`), 2 on a usage error.
 *
 * @since 0.1.0
 */
import * as CliCommand from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Ingest from "./Ingest.js"
import * as Simulate from "./Simulate.js"

/** The exit status for how the program ended. */
const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return 0
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) && ValidationError.isValidationError(failure.value) ? 2 : 1
}

/** Reports an error on stderr; usage errors were already shown by the CLI with help. */
const report = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Effect.sync(() => {
    if (Cause.isInterruptedOnly(cause)) return
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) return
    const message = Option.isSome(failure) && failure.value instanceof Error
      ? failure.value.message
      : Cause.pretty(cause)
    process.stderr.write(`mtg-events: ${message}\n`)
  })

const mtgEvents = CliCommand.make("mtg-events").pipe(
  CliCommand.withDescription("The event stream of the mtg MTProto proxy: simulate or ingest events into metrics."),
  CliCommand.withSubcommands([Simulate.command, Ingest.command])
)

const cli = CliCommand.run(mtgEvents, { name: "mtg-events", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.tapErrorCause(report),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(exitCode(exit))
  })
)
