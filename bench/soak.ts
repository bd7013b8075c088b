/**
 * `npm run soak`: a long run with fixed bounds on count and time.
 *
 * 1. 10M events over 1M distinct sessions into a slow observer (it waits 1 ms
 *    every 512 events): the bounded queues push back on the sender, so RSS must
 *    stay flat (growth < 50 MB after warm-up), no event may be lost, and each
 *    session's events must arrive in order. RSS is printed as it goes.
 * 2. The overflow policies under a stalled observer: `suspend` holds the
 *    sender; `dropping` and `sliding` let it go on at full speed and count
 *    exactly what they dropped.
 *
 * Exits with status 1 when a check fails or the run exceeds its time bound.
 */
import { Deferred, Duration, Effect, Fiber } from "effect"
import { Event, EventStream, Observer } from "../src/index.js"

const total = 10_000_000
const sessions = 1_000_000
const warmup = 2_000_000
const sampleEvery = 500_000
const maxGrowthMb = 50
const timeBound = Duration.minutes(4)

const failures: Array<string> = []
const check = (ok: boolean, what: string): void => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`)
  if (!ok) failures.push(what)
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`

/** Session `s`'s id: made as it is needed, as a proxy's session ids are. */
const idOf = (s: number): string => `session-${s.toString(36).padStart(4, "0")}`

/** Part 1: many sessions, a slow observer, bounded memory, nothing lost, order kept. */
const soak = Effect.gen(function*() {
  // per session, the last sequence number seen; events carry the session in `timestamp`, their sequence in `traffic`
  const last = new Int8Array(sessions).fill(-1)
  let received = 0
  let outOfOrder = 0
  const done = yield* Deferred.make<void>()
  const slowObserver = Effect.sync(() =>
    Observer.make({
      eventTraffic: (e) => {
        if (e.traffic !== last[e.timestamp]! + 1) outOfOrder++
        last[e.timestamp] = e.traffic
        if (++received === total) Deferred.unsafeDone(done, Effect.void)
        return received % 512 === 0 ? Effect.sleep("1 millis") : Effect.void
      }
    })
  )
  const stream = yield* EventStream.make({ shards: 2, observers: [slowObserver] })

  // RSS, and the heap the process retains (after a full collection when run with --expose-gc)
  const samples: Array<{ readonly sent: number; readonly rss: number; readonly heap: number }> = []
  const sample = (sent: number) => {
    globalThis.gc?.()
    const { heapUsed, rss } = process.memoryUsage()
    samples.push({ sent, rss, heap: heapUsed })
    console.log(`  ${String(sent).padStart(10)} sent  ${String(received).padStart(10)} received  rss ${mb(rss)}  heap ${mb(heapUsed)}`)
  }
  const start = performance.now()
  for (let i = 0; i < total; i++) {
    const s = i % sessions
    yield* stream.send(new Event.EventTraffic({ streamId: idOf(s), timestamp: s, traffic: (i - s) / sessions, isRead: true }, true))
    if ((i + 1) % sampleEvery === 0) sample(i + 1)
  }
  yield* Deferred.await(done)
  const seconds = (performance.now() - start) / 1000
  const stats = yield* stream.stats

  // flat: the peaks after warm-up are no higher than the peaks during it (RSS moves with the GC's heap sizing)
  const during = samples.filter((s) => s.sent <= warmup)
  const after = samples.filter((s) => s.sent > warmup)
  const growth = Math.max(...after.map((s) => s.rss)) - Math.max(...during.map((s) => s.rss))
  const heapGrowth = after.at(-1)!.heap - during.at(-1)!.heap
  console.log(`  ${total} events in ${seconds.toFixed(1)} s (${(total / seconds / 1e6).toFixed(2)}M/s, bounded by the slow observer)`)
  if (globalThis.gc === undefined) console.log("  (without --expose-gc the heap figures include garbage)")
  check(growth < maxGrowthMb * 2 ** 20, `RSS peak growth after warm-up ${mb(growth)} < ${maxGrowthMb} MB`)
  check(heapGrowth < maxGrowthMb * 2 ** 20, `heap growth after warm-up ${mb(heapGrowth)} < ${maxGrowthMb} MB`)
  check(received === total && stats.delivered === total && stats.accepted === total, `no loss: ${received} received, ${stats.delivered} delivered of ${total}`)
  check(stats.dropped.closed + stats.dropped.overflow + stats.dropped.deadline === 0, "nothing dropped")
  check(outOfOrder === 0, `order kept in every session (${outOfOrder} out of order)`)
  check(last.every((seq) => seq === total / sessions - 1), "every session got all its events")
}).pipe(Effect.scoped)

/** A stream id on `shard`. */
const idOnShard = (shard: number, shards: number): string => {
  for (let i = 0;; i++) if (EventStream.shardOf(`plug-${i}`, shards) === shard) return `plug-${i}`
}

/**
 * Part 2: every shard's observer stalls on its first event until released;
 * then `count` events are sent to the stream with `overflow`.
 */
const stalled = (overflow: EventStream.Overflow, count: number) =>
  Effect.gen(function*() {
    const shards = 2
    const capacity = 1024
    const release = yield* Deferred.make<void>()
    const allStalled = yield* Deferred.make<void>()
    let stalledShards = 0
    const seen: Array<Array<number>> = []
    const factory = Effect.sync(() => {
      const mine = seen[seen.push([]) - 1]!
      return Observer.make({
        eventStart: () =>
          Effect.suspend(() => {
            if (++stalledShards === shards) Deferred.unsafeDone(allStalled, Effect.void)
            return Deferred.await(release)
          }),
        eventTraffic: (e) => Effect.sync(() => mine.push(e.traffic))
      })
    })
    const stream = yield* EventStream.make({ shards, capacity, overflow, observers: [factory] })
    for (let shard = 0; shard < shards; shard++) {
      yield* stream.send(new Event.EventStart({ streamId: idOnShard(shard, shards), timestamp: 0, remoteIp: "10.0.0.1" }, true))
    }
    yield* Deferred.await(allStalled)

    const events = Array.from({ length: count }, (_, i) => new Event.EventTraffic({ streamId: idOf(i % 1000), timestamp: 0, traffic: i, isRead: true }, true))
    const perShard = Array.from({ length: shards }, (_, shard) => events.filter((e) => EventStream.shardOf(e.streamId, shards) === shard).map((e) => e.traffic))
    const start = performance.now()
    const sending = yield* Effect.fork(stream.sendAll(events))
    // a real-time wait: long enough for a sender that is not held to finish many times over
    const finished = yield* Fiber.await(sending).pipe(Effect.timeout("1 second"), Effect.option)
    const seconds = (performance.now() - start) / 1000
    const held = yield* stream.stats
    yield* Deferred.succeed(release, undefined)
    yield* Fiber.join(sending)
    return { shards, capacity, perShard, finished: finished._tag === "Some", seconds, held, stream, seen }
  })

const overflowPolicies = Effect.gen(function*() {
  const count = 1_000_000

  const suspend = yield* Effect.scoped(Effect.gen(function*() {
    const run = yield* stalled("suspend", count)
    yield* Effect.yieldNow().pipe(Effect.repeat({ until: () => run.seen.flat().length === count }), Effect.timeout("30 seconds"))
    return { ...run, after: yield* run.stream.stats }
  }))
  check(!suspend.finished, "suspend: the sender is held while the observer is stalled")
  // the sender waits on the first shard to fill; the others hold what reached them before
  check(
    suspend.held.queued >= suspend.capacity && suspend.held.queued <= suspend.shards * suspend.capacity,
    `suspend: ${suspend.held.queued} queued while held: one shard full, none over (capacity ${suspend.capacity})`
  )
  check(suspend.after.delivered === count + suspend.shards && suspend.after.dropped.overflow === 0, "suspend: after release, all delivered, none dropped")

  for (const policy of ["dropping", "sliding"] as const) {
    const run = yield* Effect.scoped(Effect.gen(function*() {
      const r = yield* stalled(policy, count)
      const expectedSeen = r.perShard.map((seqs) => policy === "dropping" ? seqs.slice(0, r.capacity) : seqs.slice(-r.capacity))
      yield* Effect.yieldNow().pipe(
        Effect.repeat({ until: () => r.seen.flat().length === r.shards * r.capacity }),
        Effect.timeout("30 seconds")
      )
      return { ...r, expectedSeen }
    }))
    const expectedDropped = run.perShard.reduce((n, seqs) => n + Math.max(0, seqs.length - run.capacity), 0)
    console.log(`  ${policy}: ${count} sends took ${(run.seconds * 1000).toFixed(0)} ms while stalled (${(count / run.seconds / 1e6).toFixed(2)}M/s)`)
    check(run.finished, `${policy}: the sender is never held`)
    check(run.held.dropped.overflow === expectedDropped, `${policy}: dropped ${run.held.dropped.overflow}, exactly the ${expectedDropped} over capacity`)
    check(run.held.accepted + run.held.dropped.overflow === count + run.shards, `${policy}: accepted + dropped = sent`)
    check(JSON.stringify(run.seen) === JSON.stringify(run.expectedSeen), `${policy}: the observer got the ${policy === "dropping" ? "first" : "last"} ${run.capacity} per shard, in order`)
  }
})

const main = Effect.gen(function*() {
  console.log(`soak: ${total} events over ${sessions} sessions, slow observer, 2 shards`)
  yield* soak
  console.log("\noverflow policies under a stalled observer (2 shards, capacity 1024)")
  yield* overflowPolicies
}).pipe(
  Effect.timeoutFail({ duration: timeBound, onTimeout: () => new Error(`soak exceeded its time bound of ${Duration.format(timeBound)}`) })
)

Effect.runPromise(main).then(
  () => {
    console.log(failures.length === 0 ? "\nsoak passed" : `\nsoak FAILED: ${failures.length} check(s)`)
    process.exitCode = failures.length === 0 ? 0 : 1
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
