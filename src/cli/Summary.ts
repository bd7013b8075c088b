/**
 * The summary table a run prints at its end: what the observers saw, what the
 * stream did, and the largest series of the metrics.
 *
 * @since 0.1.0
 */
import * as Event from "../Event.js"
import type * as EventStream from "../EventStream.js"
import * as Format from "./Format.js"
import type { Tally } from "./Tally.js"

/** One series of the metrics: its name with labels, and its value. */
export interface Series {
  readonly name: string
  readonly value: number
}

/** Everything the summary shows. */
export interface Summary {
  /** The first line: the command and its settings. */
  readonly title: string
  readonly tally: Tally
  readonly stats: EventStream.Stats
  /** How long the run took. */
  readonly millis: number
  /** Whether the run was interrupted (Ctrl-C). */
  readonly interrupted: boolean
  /** For `ingest`: the lines read and how many were bad. */
  readonly input?: { readonly lines: number; readonly badLines: number } | undefined
  /** The largest series of the metrics, largest first. */
  readonly topSeries: ReadonlyArray<Series>
}

type Row = readonly [label: string, value: string] | string

const rows = (summary: Summary): Array<Row> => {
  const { stats, tally } = summary
  const count = Format.count
  return [
    "events by kind",
    ...Event.tags.map((tag): Row => [tag, count(tally.byKind[tag])]),
    ["total", count(tally.events)],
    "sessions",
    ["started", count(tally.started)],
    ["finished", count(tally.finished)],
    ["open at end", count(tally.open)],
    "bytes",
    ["to clients", count(tally.bytesToClient)],
    ["from clients", count(tally.bytesFromClient)],
    "stream",
    ["accepted", count(stats.accepted)],
    ["delivered", count(stats.delivered)],
    ["dropped: overflow", count(stats.dropped.overflow)],
    ["dropped: closed", count(stats.dropped.closed)],
    ["dropped: deadline", count(stats.dropped.deadline)],
    ["observer failures", count(stats.observerFailures)],
    ["elapsed", Format.seconds(summary.millis)],
    ["throughput", `${count(Format.perSecond(stats.delivered, summary.millis))} events/s`],
    ...(summary.input === undefined
      ? []
      : ["input", ["lines", count(summary.input.lines)], ["bad lines", count(summary.input.badLines)]] as const)
  ]
}

/** The top series, value first, as their names are long. */
const seriesLines = (series: ReadonlyArray<Series>): Array<string> => {
  const values = series.map((s) => Format.count(s.value))
  const width = Math.max(0, ...values.map((value) => value.length))
  return series.length === 0
    ? []
    : ["top series", ...series.map((s, i) => `  ${values[i]!.padStart(width)}  ${s.name}`)]
}

/** Renders the summary as aligned text lines, ending with a newline. */
export const render = (summary: Summary): string => {
  const table = rows(summary)
  const labelWidth = Math.max(...table.map((row) => (typeof row === "string" ? 0 : row[0].length + 2)))
  const valueWidth = Math.max(...table.map((row) => (typeof row === "string" ? 0 : row[1].length)))
  const lines = table.map((row) =>
    typeof row === "string" ? row : `  ${row[0].padEnd(labelWidth)}${row[1].padStart(valueWidth)}`
  )
  const status = summary.interrupted ? " (interrupted: stream drained, observers shut down)" : ""
  return [`${summary.title}${status}`, ...lines, ...seriesLines(summary.topSeries), ""].join("\n")
}
