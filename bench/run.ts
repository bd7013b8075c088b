/**
 * `npm run bench`: every case in one process, each after warm-up, the median
 * of several runs, with ratios to the bare loop measured in the same run.
 * Prints the table and the issue's targets, and writes the same as JSON to
 * bench/results/latest.json. Never part of `npm test`; asserts no timings.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { join } from "node:path"
import { bareDispatch, bareLoop } from "./baseline.js"
import { batchSizes } from "./batches.js"
import { constructClass, constructEffect, constructUnsafe } from "./construction.js"
import { decodeJsonLines, decodeObjects } from "./decode.js"
import { type Config, endToEnd, type Observers, type SendPath } from "./eventStream.js"
import { eventCount, makeEvents, sessionCount } from "./fixtures.js"
import { type Case, formatRate, measure, type Row, type Runs, table } from "./harness.js"
import { type Latency, latency, type PacedPath } from "./latency.js"
import { effectQueue, eventEmitter, rxjs } from "./peers.js"

const runs: Runs = { warmup: 2, measured: 5 }
const shards = 2
const events = makeEvents()
const rows: Array<Row> = []
const add = async (group: string, name: string, run: Case): Promise<Row> => {
  const row = await measure(group, name, run, runs)
  rows.push(row)
  return row
}
const stream = (config: Config): Promise<Row> =>
  add("EventStream", `${config.path}, ${config.observers}, shards=${config.shards}`, endToEnd(events, config))

console.error(`routing ${eventCount} events over ${sessionCount} sessions`)
const baseline = await add("baseline", `bare loop: xxhash32 + switch + call, shards=${shards}`, bareLoop(events, shards))
await add("baseline", "bare loop, shard known: switch + call", bareDispatch(events, shards))

await add("construct", "new EventTraffic(props, true)", constructClass(events.length))
await add("construct", "Event.unsafeMake(EventTraffic, fields)", constructUnsafe(events.length))
await add("construct", "yield* Event.traffic(...) (Clock)", constructEffect(events.length))

const byKey = new Map<string, Row>()
const key = (path: SendPath, observers: Observers, n: number) => `${path}/${observers}/${n}`
for (const observers of ["sync", "effect", "sync+sync", "effect+effect"] as const) {
  for (const n of [1, 2, 8]) byKey.set(key("send", observers, n), await stream({ shards: n, observers, path: "send" }))
}
for (
  const [path, observers] of [
    ["sendAll", "sync"],
    ["sendAll", "sync+sync"],
    ["sendAll", "effect"],
    ["sendAll", "effect+effect"],
    ["unsafeSend", "sync"],
    ["session.send", "sync"],
    ["session.unsafeSend", "sync"],
    ["session.unsafeSend", "sync+sync"]
  ] as const
) {
  byKey.set(key(path, observers, shards), await stream({ shards, observers, path }))
}

const peers = [
  await add("peer", `EventEmitter per shard, shards=${shards}`, eventEmitter(events, shards)),
  await add("peer", `RxJS groupBy + concatMap, shards=${shards}`, rxjs(events, shards)),
  // one event at a time through Effect's Queue is slow: 200k events keep the run short, the rate is the same
  await add("peer", `Effect Queue per shard, offer/take (200k), shards=${shards}`, effectQueue(events.slice(0, 200_000), shards))
]

const decodeEvents = events.slice(0, 200_000)
const decodeRows = [
  await add("decode", "Event.decode (objects)", decodeObjects(decodeEvents)),
  await add("decode", "Event.decodeJson (JSON lines)", decodeJsonLines(decodeEvents))
]

const paced: Array<Latency> = []
for (const [path, max] of [["send", "send"], ["unsafeSend", "unsafeSend"]] as const satisfies ReadonlyArray<[PacedPath, SendPath]>) {
  const rate = byKey.get(key(max, "sync", shards))!.eventsPerSecond / 2
  await latency(events.slice(0, Math.round(rate / 4)), rate, shards, path) // warm-up
  const result = await latency(events.slice(0, Math.min(events.length, Math.round(rate))), rate, shards, path)
  paced.push(result)
  rows.push({
    group: "latency",
    name: `${path} at half its max, sync, shards=${shards}`,
    eventsPerSecond: result.rate,
    runs: [],
    notes: { p50: `${result.p50.toFixed(0)}us`, p99: `${result.p99.toFixed(0)}us`, max: `${result.max.toFixed(0)}us` }
  })
}

const batchChecks = {
  send: await batchSizes(events, shards, "send"),
  sendAll: await batchSizes(events, shards, "sendAll")
}

for (const row of rows) {
  if (row.group !== "decode" && row.group !== "latency") row.ratio = row.eventsPerSecond / baseline.eventsPerSecond
}

const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, date: new Date().toISOString() }
console.log(
  `\n${machine.cores} x ${machine.cpu}, Node ${machine.node}, ${machine.date}; ` +
    `${eventCount} events over ${sessionCount} sessions; median of ${runs.measured} runs after ${runs.warmup} warm-up\n`
)
console.log(table(rows))

const ratio = (k: string) => byKey.get(k)!.ratio!
const best = (ks: ReadonlyArray<string>) => Math.max(...ks.map(ratio))
const mark = (ok: boolean) => (ok ? "met   " : "missed")
const oneObserver = [key("sendAll", "sync", shards), key("unsafeSend", "sync", shards), key("session.unsafeSend", "sync", shards)]
const fanOut = [key("sendAll", "sync+sync", shards), key("session.unsafeSend", "sync+sync", shards)]
const fastest = Math.max(...[...byKey.values()].map((r) => r.eventsPerSecond))
const bestP99 = Math.min(...paced.map((l) => l.p99))
console.log(`\ntargets (ratios to the bare loop, this run):`)
console.log(`  ${mark(best(oneObserver) >= 0.8)} 1 observer >= 0.8x: send ${ratio(key("send", "sync", shards)).toFixed(2)}x, best fast path ${best(oneObserver).toFixed(2)}x`)
console.log(`  ${mark(best(fanOut) >= 0.5)} 2-observer fan-out >= 0.5x: send ${ratio(key("send", "sync+sync", shards)).toFixed(2)}x, best fast path ${best(fanOut).toFixed(2)}x`)
console.log(`  ${mark(peers.every((p) => p.eventsPerSecond < fastest))} every peer beaten: fastest peer ${formatRate(Math.max(...peers.map((p) => p.eventsPerSecond)))}, fastest path ${formatRate(fastest)}`)
console.log(`  ${mark(decodeRows[0]!.eventsPerSecond >= 1e6)} decode >= 1M objects/s: ${formatRate(decodeRows[0]!.eventsPerSecond)}`)
console.log(`  ${mark(decodeRows[1]!.eventsPerSecond >= 0.5e6)} decode >= 0.5M JSON lines/s: ${formatRate(decodeRows[1]!.eventsPerSecond)}`)
console.log(`  ${mark(paced.some((l) => l.p99 < 1000))} p99 < 1 ms at half load: ${paced.map((l, i) => `${i === 0 ? "send" : "unsafeSend"} ${l.p99.toFixed(0)}us`).join(", ")} (best ${bestP99.toFixed(0)}us)`)
console.log(
  `\nbatches the shard workers got (shards=${shards}): ` +
    Object.entries(batchChecks).map(([path, b]) => `${path} ${b.batches} batches, mean ${b.mean.toFixed(0)} events`).join("; ")
)
for (const [path, b] of Object.entries(batchChecks)) {
  if (b.mean < 16) console.log(`WARNING: ${path} delivered batches of ${b.mean.toFixed(1)} events: one-at-a-time delivery?`)
}

// npm runs scripts in the package root
const results = join(process.cwd(), "bench", "results")
mkdirSync(results, { recursive: true })
writeFileSync(
  join(results, "latest.json"),
  JSON.stringify({ machine, eventCount, sessionCount, runs, rows, latency: paced, batches: batchChecks }, null, 2)
)
