/**
 * The progress display of a run, on stderr: a bar redrawn ten times a second
 * when stderr is a terminal, and in every case one plain line at the end.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Format from "./Format.js"

/** A snapshot of a run. */
export interface Sample {
  /** Events delivered to the observers. */
  readonly events: number
  /** Sessions open. */
  readonly open: number
  /** How much of the run is done, from 0 to 1, when known. */
  readonly fraction: number | undefined
}

const barWidth = 24

/** The bar line: `[#####-----]  42%  1,234,567 events  812.3k/s  4,998 open`. */
export const renderBar = (sample: Sample, eventsPerSecond: number): string => {
  const fraction = sample.fraction === undefined ? undefined : Math.min(1, Math.max(0, sample.fraction))
  const bar = fraction === undefined
    ? ""
    : `[${"#".repeat(Math.round(fraction * barWidth)).padEnd(barWidth, "-")}] ${
      `${Math.floor(fraction * 100)}%`.padStart(4)
    }  `
  return `${bar}${Format.count(sample.events)} events  ${Format.rate(eventsPerSecond)}  ${
    Format.count(sample.open)
  } open`
}

/** The final line: `simulate: 1,000,000 events in 1.52 s (657.9k/s), 0 sessions open`. */
export const renderEnd = (label: string, sample: Sample, millis: number): string =>
  `${label}: ${Format.count(sample.events)} events in ${Format.seconds(millis)} (${
    Format.rate(Format.perSecond(sample.events, millis))
  }), ${Format.count(sample.open)} sessions open`

/**
 * Shows the progress of a run while the scope is open; closing the scope
 * clears the bar and writes the final line. `sample` is read on each redraw.
 */
export const display = (label: string, sample: Effect.Effect<Sample>): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const stderr = process.stderr
    const started = yield* Clock.currentTimeMillis
    const finish = Effect.gen(function*() {
      const last = yield* sample
      const now = yield* Clock.currentTimeMillis
      if (stderr.isTTY) stderr.write("\r\x1b[2K")
      stderr.write(renderEnd(label, last, now - started) + "\n")
    })
    yield* Effect.addFinalizer(() => finish)
    if (!stderr.isTTY) return
    let previous = { events: 0, at: started }
    const redraw = Effect.gen(function*() {
      const current = yield* sample
      const now = yield* Clock.currentTimeMillis
      const rate = Format.perSecond(current.events - previous.events, now - previous.at)
      previous = { events: current.events, at: now }
      stderr.write(`\r\x1b[2K${label} ${renderBar(current, rate)}`)
    })
    yield* Effect.forkScoped(Effect.repeat(redraw, Schedule.spaced("100 millis")))
  })
