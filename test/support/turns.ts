import { Deferred, Effect, Fiber, Option } from "effect"
import { Event, EventStream, Observer } from "../../src/index.js"

/**
 * Runs `effect` in a fiber for at most `turns` scheduler turns: `Some` with its
 * result when it finished by then, `None` (and the fiber interrupted) when it
 * was still waiting. Bounds a test by turns, not by time.
 */
export const withinTurns = <A, E>(effect: Effect.Effect<A, E>, turns = 1_000): Effect.Effect<Option.Option<A>, E> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < turns; i++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) return Option.some(yield* exit.value)
      yield* Effect.yieldNow()
    }
    yield* Fiber.interrupt(fiber)
    return Option.none()
  })

/** Gives the other fibers `n` scheduler turns. */
export const turns = (n: number): Effect.Effect<void> => Effect.repeatN(Effect.yieldNow(), Math.max(0, n - 1)).pipe(Effect.when(() => n > 0), Effect.asVoid)

/** A stream id that `EventStream.shardOf` puts on `shard` of `shards`. */
export const idOnShard = (shard: number, shards: number, prefix = "plug"): string => {
  for (let i = 0;; i++) {
    const id = `${prefix}-${i}`
    if (EventStream.shardOf(id, shards) === shard) return id
  }
}

/** A traffic event whose `traffic` is its sequence number. */
export const traffic = (streamId: string, seq: number): Event.Event =>
  new Event.EventTraffic({ streamId, timestamp: 0, traffic: seq, isRead: true })

/**
 * Observers that stall: an instance per shard that blocks on the first
 * `EventStart` it gets until `release`, and records the `traffic` of the
 * traffic events it gets. `stallAll` sends a start to every shard and waits
 * until each instance is blocked in it, so that every queue is then empty and
 * no worker is taking: what is sent next stays queued until `release`.
 */
export const makeStalled = (shards: number) =>
  Effect.gen(function*() {
    const release = yield* Deferred.make<void>()
    const allStalled = yield* Deferred.make<void>()
    const seen: Array<Array<number>> = Array.from({ length: shards }, () => [])
    let stalled = 0
    let shutdowns = 0
    let instances = 0
    const factory = Effect.sync(() => {
      const instance = instances++
      return Observer.make({
        eventStart: () =>
          Effect.suspend(() => {
            if (++stalled === shards) Deferred.unsafeDone(allStalled, Effect.void)
            return Deferred.await(release)
          }),
        eventTraffic: (e) => Effect.sync(() => seen[instance]!.push(e.traffic)),
        shutdown: Effect.sync(() => shutdowns++)
      })
    })
    const stallAll = (stream: EventStream.Service) =>
      Effect.gen(function*() {
        for (let shard = 0; shard < shards; shard++) {
          yield* stream.send(new Event.EventStart({ streamId: idOnShard(shard, shards), timestamp: 0, remoteIp: "10.0.0.1" }))
        }
        yield* Deferred.await(allStalled)
      })
    return {
      factory,
      stallAll,
      release: Deferred.succeed(release, undefined),
      seen,
      shutdowns: () => shutdowns
    }
  })
