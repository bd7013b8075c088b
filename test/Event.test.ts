import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, Equal, FastCheck, Schema, TestClock } from "effect"
import { Event } from "../src/index.js"

const decodeError = (input: unknown): Event.DecodeError => {
  const result = Event.decode(input)
  if (Either.isRight(result)) throw new Error(`decoded ${JSON.stringify(input)}`)
  return result.left
}

const start = { _tag: "EventStart", streamId: "s1", timestamp: 1, remoteIp: "10.0.0.1" }

describe("Event", () => {
  it.effect("constructors stamp the time from Clock and fill mtg's fields", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_123)
      expect(yield* Event.start("s", "::1")).toEqual(
        new Event.EventStart({ streamId: "s", timestamp: 1_700_000_000_123, remoteIp: "::1" })
      )
      yield* TestClock.adjust("2 seconds")
      const events = [
        yield* Event.connectedToDC("s", "149.154.167.51", -2),
        yield* Event.traffic("s", 100, true),
        yield* Event.finish("s"),
        yield* Event.domainFronting("s"),
        yield* Event.concurrencyLimited(),
        yield* Event.ipBlocklisted("1.2.3.4"),
        yield* Event.ipAllowlisted("1.2.3.4"),
        yield* Event.replayAttack("s"),
        yield* Event.ipListSize(10, false)
      ]
      expect(events.map((e) => e.timestamp)).toEqual(events.map(() => 1_700_000_002_123))
      expect(events.map((e) => e._tag)).toEqual([
        "EventConnectedToDC",
        "EventTraffic",
        "EventFinish",
        "EventDomainFronting",
        "EventConcurrencyLimited",
        "EventIPBlocklisted",
        "EventIPBlocklisted",
        "EventReplayAttack",
        "EventIPListSize"
      ])
      expect(events[4]!.streamId).toBe("")
      expect(events[5]).toMatchObject({ remoteIp: "1.2.3.4", isBlockList: true, streamId: "" })
      expect(events[6]).toMatchObject({ isBlockList: false })
      expect(events[8]).toMatchObject({ size: 10, isBlockList: false, streamId: "" })
    }))

  it.prop(
    "every event round-trips through the JSON-line codec",
    [Arbitrary.make(Event.Event)],
    ([event]) => {
      expect(Event.encode(event)).toEqual(Schema.encodeSync(Event.Event)(event))
      const line = Event.encodeJson(event)
      expect(line).not.toContain("\n")
      const decoded = Event.decodeJson(line)
      expect(decoded).toEqual(Either.right(event))
      expect(Either.getOrThrow(decoded)).toBeInstanceOf(Event.classes[event._tag])
    },
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "unsafeMake builds the same instance as the class constructor",
    [Arbitrary.make(Event.Event)],
    ([event]) => {
      const { _tag, ...fields } = event
      const made = Event.unsafeMake(Event.classes[_tag] as typeof Event.EventFinish, fields)
      expect(made).toBeInstanceOf(Event.classes[_tag])
      expect(made).toEqual(event)
      expect(Equal.equals(made, event)).toBe(true)
      expect(Object.keys(made)).toEqual(Object.keys(event))
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("decodes a parsed object into the event class", () => {
    const decoded = Either.getOrThrow(Event.decode(start))
    expect(decoded).toBeInstanceOf(Event.EventStart)
    expect(decoded).toMatchObject({ streamId: "s1", remoteIp: "10.0.0.1" })
  })

  it.each([
    [{ ...start, _tag: "EventStop" }, undefined, "_tag", /expected one of EventStart, .*got "EventStop"/],
    [{ streamId: "s" }, undefined, "_tag", /got nothing/],
    [{ ...start, remoteIp: "1.2.3" }, "EventStart", "remoteIp", /IPv4 or IPv6/],
    [{ _tag: "EventStart", streamId: "s1", timestamp: 1 }, "EventStart", "remoteIp", /is missing/],
    [{ _tag: "EventFinish", timestamp: 1 }, "EventFinish", "streamId", /is missing/],
    [{ _tag: "EventTraffic", streamId: "s", timestamp: 1, traffic: -1, isRead: true }, "EventTraffic", "traffic", /non-negative/],
    [{ _tag: "EventTraffic", streamId: "s", timestamp: 1, traffic: 1.5, isRead: true }, "EventTraffic", "traffic", /integer/],
    [{ _tag: "EventTraffic", streamId: "s", timestamp: 1, traffic: 1, isRead: "yes" }, "EventTraffic", "isRead", /boolean/],
    [{ _tag: "EventConnectedToDC", streamId: "s", timestamp: 1, remoteIp: "::1", dc: 2.5 }, "EventConnectedToDC", "dc", /integer/],
    [{ _tag: "EventIPListSize", streamId: "", timestamp: 1, size: "3", isBlockList: true }, "EventIPListSize", "size", /number/],
    [{ ...start, timestamp: -5 }, "EventStart", "timestamp", /non-negative/],
    [{ ...start, streamId: 7 }, "EventStart", "streamId", /string/]
  ] as const)("a bad field gives a typed error naming it: %j", (input, event, field, message) => {
    const error = decodeError(input)
    expect(error._tag).toBe("EventDecodeError")
    expect(error).toBeInstanceOf(Event.DecodeError)
    expect(error.event).toBe(event)
    expect(error.field).toBe(field)
    expect(error.message).toMatch(message)
    if (event !== undefined) expect(error.message.startsWith(`${event}.${field}: `)).toBe(true)
  })

  it.each([null, 42, "EventStart", [start], undefined])("a non-object gives a typed error: %j", (input) => {
    const error = decodeError(input)
    expect(error.event).toBeUndefined()
    expect(error.message).toMatch(/expected an event object/)
  })

  it("bad JSON gives a typed error", () => {
    const result = Event.decodeJson("{\"_tag\": ")
    expect(Either.isLeft(result) && result.left.message).toMatch(/^invalid JSON/)
  })

  it.effect("decode is an Effect too: a bad event fails the effect with the typed error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Event.decode({ ...start, remoteIp: "nope" }))
      expect(error.field).toBe("remoteIp")
    }))

  it("the classes validate when constructed directly", () => {
    expect(() => new Event.EventStart({ streamId: "s", timestamp: 0, remoteIp: "x" })).toThrow(/IPv4 or IPv6/)
    expect(() => new Event.EventTraffic({ streamId: "s", timestamp: 0, traffic: -1, isRead: true })).toThrow()
  })

  it("ips: both families are valid", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.oneof(FastCheck.ipV4(), FastCheck.ipV6()), (ip) => {
        expect(Either.isRight(Event.decode({ ...start, remoteIp: ip }))).toBe(true)
      }),
      { numRuns: 300 }
    )
  })
})
