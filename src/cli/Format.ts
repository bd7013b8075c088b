/**
 * Number formats shared by the progress line and the summary table.
 *
 * @since 0.1.0
 */

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

/** An integer with thousands separators: `1,234,567`. */
export const count = (n: number): string => grouped.format(n)

/** A rate per second, short: `950/s`, `12.3k/s`, `1.25M/s`. */
export const rate = (perSecond: number): string =>
  perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(2)}M/s`
    : perSecond >= 1e3
    ? `${(perSecond / 1e3).toFixed(1)}k/s`
    : `${Math.round(perSecond)}/s`

/** A duration in seconds with two decimals: `1.23 s`. */
export const seconds = (millis: number): string => `${(millis / 1000).toFixed(2)} s`

/** Events per second over `millis` (0 when no time passed). */
export const perSecond = (events: number, millis: number): number => (millis > 0 ? (events * 1000) / millis : 0)
