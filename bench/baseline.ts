/**
 * The limit: a bare synchronous loop doing what the stream must do per event,
 * with nothing else: hash the stream id with the same xxhash32, pick the
 * shard, switch on the tag and call the shard's handler, which counts.
 */
import type { Event } from "../src/index.js"
import { xxhash32 } from "../src/internal/xxhash32.js"
import { type Sample, timeSync } from "./harness.js"

/** A plain counting observer: one method per event tag. */
export class Counter {
  count = 0
  eventStart(_: Event.EventStart) { this.count++ }
  eventConnectedToDC(_: Event.EventConnectedToDC) { this.count++ }
  eventTraffic(_: Event.EventTraffic) { this.count++ }
  eventFinish(_: Event.EventFinish) { this.count++ }
  eventDomainFronting(_: Event.EventDomainFronting) { this.count++ }
  eventConcurrencyLimited(_: Event.EventConcurrencyLimited) { this.count++ }
  eventIPBlocklisted(_: Event.EventIPBlocklisted) { this.count++ }
  eventReplayAttack(_: Event.EventReplayAttack) { this.count++ }
  eventIPListSize(_: Event.EventIPListSize) { this.count++ }
}

/** Calls the observer's method for the event's tag. */
export const dispatch = (observer: Counter, event: Event.Event): void => {
  switch (event._tag) {
    case "EventStart": return observer.eventStart(event)
    case "EventConnectedToDC": return observer.eventConnectedToDC(event)
    case "EventTraffic": return observer.eventTraffic(event)
    case "EventFinish": return observer.eventFinish(event)
    case "EventDomainFronting": return observer.eventDomainFronting(event)
    case "EventConcurrencyLimited": return observer.eventConcurrencyLimited(event)
    case "EventIPBlocklisted": return observer.eventIPBlocklisted(event)
    case "EventReplayAttack": return observer.eventReplayAttack(event)
    case "EventIPListSize": return observer.eventIPListSize(event)
  }
}

/** mtg's routing without memory: xxhash32 of the id mod `shards`, the next shard in turn for an empty id. */
export const hashRouter = (shards: number): (streamId: string) => number => {
  let next = 0
  return (streamId) => streamId === "" ? (next = next + 1 === shards ? 0 : next + 1) : xxhash32(streamId) % shards
}

/** The bare loop: xxhash32 per event, switch, call. */
export const bareLoop = (events: ReadonlyArray<Event.Event>, shards: number) => (): Sample => {
  const observers = Array.from({ length: shards }, () => new Counter())
  const route = hashRouter(shards)
  const sample = timeSync(events.length, () => {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      dispatch(observers[route(event.streamId)]!, event)
    }
  })
  check(observers, events.length)
  return sample
}

/** The bare loop with the shard already known: dispatch and call only. */
export const bareDispatch = (events: ReadonlyArray<Event.Event>, shards: number) => {
  const shardOf = events.map((event) => event.streamId === "" ? 0 : xxhash32(event.streamId) % shards)
  return (): Sample => {
    const observers = Array.from({ length: shards }, () => new Counter())
    const sample = timeSync(events.length, () => {
      for (let i = 0; i < events.length; i++) dispatch(observers[shardOf[i]!]!, events[i]!)
    })
    check(observers, events.length)
    return sample
  }
}

/** Throws unless the counters saw `expected` events in all. */
export const check = (observers: ReadonlyArray<Counter>, expected: number): void => {
  const total = observers.reduce((n, o) => n + o.count, 0)
  if (total !== expected) throw new Error(`baseline counted ${total} of ${expected} events`)
}
