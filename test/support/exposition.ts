import { Deferred, Effect, Exit, FiberId } from "effect"
import { Observer } from "../../src/index.js"

/** A parsed Prometheus or OpenMetrics exposition. */
export interface Exposition {
  /** Sample values by metric name, then by labels written `k=v,k=v` in label-name order (`""` for none). */
  readonly samples: ReadonlyMap<string, Readonly<Record<string, number>>>
  readonly help: ReadonlyMap<string, string>
  readonly type: ReadonlyMap<string, string>
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Parses exposition text; throws on a line it does not understand. */
export const parseExposition = (text: string): Exposition => {
  const samples = new Map<string, Record<string, number>>()
  const help = new Map<string, string>()
  const type = new Map<string, string>()
  for (const line of text.split("\n")) {
    if (line === "" || line === "# EOF") continue
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta !== null) {
      ;(meta[1] === "HELP" ? help : type).set(meta[2]!, meta[3]!)
      continue
    }
    const sample = sampleLine.exec(line)
    if (sample === null) throw new Error(`not an exposition line: ${line}`)
    const labels = [...(sample[2] ?? "").matchAll(labelPair)]
      .map(([, name, value]) => [name!, value!] as const)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `${name}=${value}`)
      .join(",")
    const series = samples.get(sample[1]!) ?? {}
    series[labels] = Number(sample[3])
    samples.set(sample[1]!, series)
  }
  return { samples, help, type }
}

/** The series of one metric name (`{}` when it has none). */
export const seriesOf = (exposition: Exposition, name: string): Readonly<Record<string, number>> =>
  exposition.samples.get(name) ?? {}

/** GETs a URL on 127.0.0.1; the status, content type and body. */
export const get = (port: number, path = "/", headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers })
    return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() }
  })

/**
 * An observer factory that counts the events delivered to all its instances;
 * `delivered(n)` waits until n were. Put it after the observer under test, so
 * that one has handled every event counted.
 */
export const makeBarrier = Effect.sync(() => {
  let seen = 0
  const waiting: Array<readonly [number, Deferred.Deferred<void>]> = []
  const count = () => {
    seen++
    for (const [n, deferred] of waiting) if (n <= seen) Deferred.unsafeDone(deferred, Exit.void)
  }
  const observer = Effect.succeed(Observer.syncEvery(count))
  const delivered = (n: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (seen >= n) return Effect.void
      const deferred = Deferred.unsafeMake<void>(FiberId.none)
      waiting.push([n, deferred])
      return Deferred.await(deferred)
    })
  return { observer, delivered }
})
