import { Counter, type CounterConfiguration } from "prom-client"

/** One series of a `TallyCounter`: add to `total`; the counter catches up when collected. @internal */
export interface Tally<L extends string = string> {
  total: number
  reported: number
  readonly labels: Readonly<Record<L, string>>
}

/**
 * A prom-client counter fed from plain numbers, for the per-event traffic
 * path: adding to a `Tally` is a field update (a few ns), where `Counter.inc`
 * hashes its labels on every call (~230 ns measured). What was added since the
 * last collection is moved into the counter whenever the registry collects it,
 * so every scrape and `get()` sees exact totals.
 *
 * @internal
 */
export class TallyCounter<L extends string> {
  readonly counter: Counter<L>
  private readonly tallies = new Map<string, Tally<L>>()

  constructor(config: Omit<CounterConfiguration<L>, "collect">) {
    const tallies = this.tallies
    this.counter = new Counter<L>({
      ...config,
      collect() {
        for (const tally of tallies.values()) {
          if (tally.total > tally.reported) {
            this.inc(tally.labels, tally.total - tally.reported)
            tally.reported = tally.total
          }
        }
      }
    })
  }

  /** The tally of a series; the first use creates the series at 0, as the first `inc` would. */
  tally(labels: Readonly<Record<L, string>>): Tally<L> {
    const key = Object.values<string>(labels).join("\u0000")
    let tally = this.tallies.get(key)
    if (tally === undefined) {
      tally = { total: 0, reported: 0, labels }
      this.tallies.set(key, tally)
      this.counter.inc(labels, 0)
    }
    return tally
  }
}
