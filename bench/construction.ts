/**
 * What building the typed events costs, measured apart from routing: the
 * class constructor with validation off, `Event.unsafeMake` (what
 * `Event.traffic` uses), and the `Event.traffic` constructor itself, which
 * stamps the time from `Clock`.
 */
import { Effect } from "effect"
import { Event } from "../src/index.js"
import { type Sample, timeSync } from "./harness.js"
import { streamIdOf } from "./fixtures.js"

const ids = Array.from({ length: 1024 }, (_, i) => streamIdOf(i))

/** `new Event.EventTraffic(props, true)`. */
export const constructClass = (count: number) => (): Sample => {
  const out = new Array<Event.Event>(count)
  return timeSync(count, () => {
    for (let i = 0; i < count; i++) {
      out[i] = new Event.EventTraffic({ streamId: ids[i & 1023]!, timestamp: i, traffic: 1400, isRead: true }, true)
    }
  })
}

/** `Event.unsafeMake(Event.EventTraffic, fields)`. */
export const constructUnsafe = (count: number) => (): Sample => {
  const out = new Array<Event.Event>(count)
  return timeSync(count, () => {
    for (let i = 0; i < count; i++) {
      out[i] = Event.unsafeMake(Event.EventTraffic, { streamId: ids[i & 1023]!, timestamp: i, traffic: 1400, isRead: true })
    }
  })
}

/** `yield* Event.traffic(...)` in one `Effect.gen` loop. */
export const constructEffect = (count: number) => (): Sample => {
  const out = new Array<Event.Event>(count)
  return timeSync(count, () =>
    Effect.runSync(Effect.gen(function*() {
      for (let i = 0; i < count; i++) out[i] = yield* Event.traffic(ids[i & 1023]!, 1400, true)
    })))
}
