import { Effect } from "effect"
import type { Event } from "../../src/index.js"
import { Observer } from "../../src/index.js"

/** One thing an observer instance saw: an event, or its shutdown. */
export interface Entry {
  readonly factory: number
  readonly instance: number
  readonly event: Event.Event | "shutdown"
}

/**
 * Observer factories that record, in one shared log, every event each instance
 * receives and its shutdown. Instances of a factory are numbered in creation
 * order, which is shard order.
 */
export const makeRecorder = (options: { readonly factories: number; readonly effectful?: boolean }) => {
  const log: Array<Entry> = []
  const factories = Array.from({ length: options.factories }, (_, factory) => {
    let instances = 0
    return Effect.sync(() => {
      const instance = instances++
      const record = (event: Event.Event | "shutdown") => {
        log.push({ factory, instance, event })
      }
      const shutdown = Effect.sync(() => record("shutdown"))
      if (options.effectful !== true) {
        return Observer.syncEvery(record, shutdown)
      }
      const handle = (event: Event.Event) => Effect.zipRight(Effect.yieldNow(), Effect.sync(() => record(event)))
      return Observer.makeEvery(handle, shutdown)
    })
  })
  return { log, factories }
}
