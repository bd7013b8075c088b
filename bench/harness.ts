/**
 * Measuring and reporting: each case runs a few warm-up times, then several
 * measured times; its figure is the median. Ratios are to the baseline row
 * measured in the same process run.
 */

/** One timed run of a case: how many events it handled and how long the timed part took, in milliseconds. */
export interface Sample {
  readonly events: number
  readonly ms: number
}

/** A case: does its own set-up, times only the part it measures, then tears down. */
export type Case = () => Promise<Sample> | Sample

/** A measured case. */
export interface Row {
  readonly group: string
  readonly name: string
  /** Events per second of the median run. */
  readonly eventsPerSecond: number
  /** Events per second of every measured run, in order. */
  readonly runs: ReadonlyArray<number>
  /** `eventsPerSecond` over the baseline's, or `undefined` for rows not compared (decode, latency). */
  ratio?: number | undefined
  /** Extra figures a row reports (latency percentiles, batch sizes). */
  readonly notes?: Readonly<Record<string, number | string>> | undefined
}

/** How many warm-up and measured runs each case gets. */
export interface Runs {
  readonly warmup: number
  readonly measured: number
}

/** The median of some numbers. */
export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The `p`-th percentile (0..100) of some numbers, nearest rank. */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = Float64Array.from(xs).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Runs a case `runs.warmup` times unmeasured and `runs.measured` times measured. */
export const measure = async (group: string, name: string, run: Case, runs: Runs): Promise<Row> => {
  for (let i = 0; i < runs.warmup; i++) await run()
  const rates: Array<number> = []
  for (let i = 0; i < runs.measured; i++) {
    const { events, ms } = await run()
    rates.push((events / ms) * 1000)
  }
  const row: Row = { group, name, eventsPerSecond: median(rates), runs: rates }
  console.error(`  ${group} / ${name}: ${formatRate(row.eventsPerSecond)}`)
  return row
}

/** Times a synchronous function. */
export const timeSync = (events: number, f: () => void): Sample => {
  const start = performance.now()
  f()
  return { events, ms: performance.now() - start }
}

/** Millions of events per second with two decimals. */
export const formatRate = (eventsPerSecond: number): string => `${(eventsPerSecond / 1e6).toFixed(2)}M/s`

/** The rows as a fixed-width text table. */
export const table = (rows: ReadonlyArray<Row>): string => {
  const lines = rows.map((row) => [
    row.group,
    row.name,
    formatRate(row.eventsPerSecond),
    row.ratio === undefined ? "" : `${row.ratio.toFixed(2)}x`,
    row.notes === undefined ? "" : Object.entries(row.notes).map(([k, v]) => `${k} ${v}`).join(", ")
  ])
  const header = ["group", "case", "events/s", "vs baseline", "notes"]
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...lines.map(format)].join("\n")
}
