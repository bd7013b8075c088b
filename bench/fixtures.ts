/**
 * The workload every benchmark case routes: typed events built before any
 * timer starts, over a fixed set of 22-character stream ids, about 97% traffic.
 */
import { Event } from "../src/index.js"

/** How many events one measured run routes. */
export const eventCount = 1_000_000

/** How many distinct sessions the events belong to. */
export const sessionCount = 10_000

/** A stream id of 22 characters, as mtg's base64 session ids. */
export const streamIdOf = (i: number): string => `s${i.toString(36).padStart(8, "0")}-0123456789abc`

/** A deterministic pseudo-random generator (mulberry32), so every run routes the same events. */
export const random = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Builds one event of session `streamId`: traffic 97% of the time, the others spread over the rest. */
export const eventOf = (streamId: string, r: number, timestamp: number): Event.Event => {
  if (r < 0.97) return new Event.EventTraffic({ streamId, timestamp, traffic: 1400, isRead: r < 0.485 }, true)
  if (r < 0.975) return new Event.EventStart({ streamId, timestamp, remoteIp: "10.0.0.1" }, true)
  if (r < 0.98) return new Event.EventConnectedToDC({ streamId, timestamp, remoteIp: "149.154.167.51", dc: 2 }, true)
  if (r < 0.985) return new Event.EventFinish({ streamId, timestamp }, true)
  if (r < 0.99) return new Event.EventDomainFronting({ streamId, timestamp }, true)
  if (r < 0.993) return new Event.EventReplayAttack({ streamId, timestamp }, true)
  if (r < 0.996) return new Event.EventConcurrencyLimited({ streamId: "", timestamp }, true)
  if (r < 0.998) return new Event.EventIPBlocklisted({ streamId: "", timestamp, remoteIp: "10.0.0.2", isBlockList: true }, true)
  return new Event.EventIPListSize({ streamId: "", timestamp, size: 42, isBlockList: false }, true)
}

/** `count` events over `sessions` sessions; `timestamp` is the event's index, which the latency case uses. */
export const makeEvents = (count = eventCount, sessions = sessionCount): Array<Event.Event> => {
  const ids = Array.from({ length: sessions }, (_, i) => streamIdOf(i))
  const next = random(42)
  const events = new Array<Event.Event>(count)
  for (let i = 0; i < count; i++) events[i] = eventOf(ids[Math.floor(next() * sessions)]!, next(), i)
  return events
}
