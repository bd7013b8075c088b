/**
 * Runs a source of events through an `EventStream` with the CLI's observers,
 * shows progress, and prints the summary once the stream has drained and
 * its observers have shut down, also when the run is interrupted.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type * as Event from "../Event.js"
import * as EventStream from "../EventStream.js"
import type * as Observer from "../Observer.js"
import * as Progress from "./Progress.js"
import * as Summary from "./Summary.js"
import { Tally } from "./Tally.js"

/** How the stream of a run is built. */
export interface StreamSettings {
  readonly shards: number | undefined
  readonly capacity: number | undefined
  readonly overflow: EventStream.Overflow
}

/**
 * Lets the event loop run: timers, signals, sockets. A producer and the shard
 * fibers hand work to each other through the scheduler's microtasks only, so a
 * loop that never waits for I/O would otherwise starve everything else (the
 * progress bar, Ctrl-C, scrapes of /metrics).
 */
const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const immediate = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(immediate))
})

/** What to run, and how. */
export interface Options<E> {
  /** The command's name, which prefixes the progress lines. */
  readonly label: string
  /** The summary's first line. */
  readonly title: string
  /** The events, in batches. */
  readonly source: Stream.Stream<ReadonlyArray<Event.Event>, E>
  /** How much of the source has been consumed, when known. */
  readonly fraction: Effect.Effect<number | undefined>
  /** For the summary of `ingest`: the lines read and how many were bad. */
  readonly input?: (() => { readonly lines: number; readonly badLines: number }) | undefined
  /** How to build the stream. */
  readonly stream: StreamSettings
  /** Observers besides the counting one (metrics). */
  readonly observers: ReadonlyArray<Observer.Factory>
  /** What runs beside the stream, given it (the stream's own metrics). */
  readonly besideStream: Layer.Layer<never, never, EventStream.EventStream>
  /** The largest series of the metrics, for the summary. */
  readonly topSeries: Effect.Effect<ReadonlyArray<Summary.Series>>
  /** Where the summary goes: stdout, unless stdout carries emitted events. */
  readonly summaryTo: NodeJS.WriteStream
}

/**
 * Sends the source through a new stream until it ends (or the run is
 * interrupted), closes the stream, which drains it and shuts its observers
 * down, then prints the summary.
 */
export const run = <E>(options: Options<E>): Effect.Effect<void, E> =>
  Effect.gen(function*() {
    const tally = new Tally()
    const started = yield* Clock.currentTimeMillis
    let stream: EventStream.Service | undefined
    const delivered = Effect.suspend(() =>
      stream === undefined ? Effect.succeed(0) : Effect.map(stream.stats, (stats) => stats.delivered)
    )
    const sample = Effect.zipWith(
      delivered,
      options.fraction,
      (events, fraction): Progress.Sample => ({ events, open: tally.open, fraction })
    )
    const printSummary = (exit: Exit.Exit<void, E>) =>
      Effect.gen(function*() {
        if (stream === undefined) return
        const stats = yield* stream.stats
        const now = yield* Clock.currentTimeMillis
        const topSeries = yield* options.topSeries
        options.summaryTo.write(Summary.render({
          title: options.title,
          tally,
          stats,
          millis: now - started,
          interrupted: Exit.isInterrupted(exit),
          input: options.input?.(),
          topSeries
        }))
      })

    yield* Effect.scoped(Effect.gen(function*() {
      yield* Progress.display(options.label, sample)
      const running = yield* EventStream.make({
        observers: [tally.observer, ...options.observers],
        shards: options.stream.shards,
        capacity: options.stream.capacity,
        overflow: options.stream.overflow
      })
      stream = running
      yield* Layer.build(Layer.provide(options.besideStream, Layer.succeed(EventStream.EventStream, running)))
      process.stderr.write(`${options.title}: running on ${running.shards} shards\n`)
      yield* Stream.runForEach(options.source, (batch) => Effect.zipRight(running.sendAll(batch), yieldToEventLoop))
    })).pipe(Effect.onExit(printSummary))
  })
