/**
 * Counting observers for the end-to-end cases, and the signal that the last
 * expected event arrived.
 */
import { Deferred, Effect } from "effect"
import { Observer } from "../src/index.js"

/** A count shared by the observers of one run, and a `Deferred` done when it reaches `target`. */
export interface Tally {
  count: number
  readonly target: number
  readonly done: Deferred.Deferred<void>
}

/** A tally that completes after `target` handler calls. */
export const makeTally = (target: number): Effect.Effect<Tally> =>
  Effect.map(Deferred.make<void>(), (done) => ({ count: 0, target, done }))

const tick = (tally: Tally): void => {
  if (++tally.count === tally.target) Deferred.unsafeDone(tally.done, Effect.void)
}

/** A factory of synchronous observers that count every event. */
export const syncCounter = (tally: Tally): Observer.Factory => {
  const count = () => tick(tally)
  return Effect.sync(() => Observer.syncEvery(count))
}

/** A factory of observers whose handlers are Effects (`Effect.sync`) that count every event. */
export const effectCounter = (tally: Tally): Observer.Factory => {
  const count = () => Effect.sync(() => tick(tally))
  return Effect.sync(() => Observer.makeEvery(count))
}
