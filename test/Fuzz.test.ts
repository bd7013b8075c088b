import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Equal, FastCheck, Schema } from "effect"
import { Event, EventStream, Observer } from "../src/index.js"

const ip = FastCheck.oneof(FastCheck.ipV4(), FastCheck.ipV6())
const common = { streamId: FastCheck.string({ maxLength: 24 }), timestamp: FastCheck.maxSafeNat() }

/** Any valid event, as the plain object its JSON encodes. */
const validEvent: FastCheck.Arbitrary<Record<string, unknown>> = FastCheck.oneof(
  FastCheck.record({ _tag: FastCheck.constant("EventStart"), ...common, remoteIp: ip }),
  FastCheck.record({ _tag: FastCheck.constant("EventConnectedToDC"), ...common, remoteIp: ip, dc: FastCheck.integer() }),
  FastCheck.record({
    _tag: FastCheck.constant("EventTraffic"),
    ...common,
    traffic: FastCheck.maxSafeNat(),
    isRead: FastCheck.boolean()
  }),
  FastCheck.record({ _tag: FastCheck.constant("EventFinish"), ...common }),
  FastCheck.record({ _tag: FastCheck.constant("EventDomainFronting"), ...common }),
  FastCheck.record({ _tag: FastCheck.constant("EventConcurrencyLimited"), ...common }),
  FastCheck.record({ _tag: FastCheck.constant("EventIPBlocklisted"), ...common, remoteIp: ip, isBlockList: FastCheck.boolean() }),
  FastCheck.record({ _tag: FastCheck.constant("EventReplayAttack"), ...common }),
  FastCheck.record({
    _tag: FastCheck.constant("EventIPListSize"),
    ...common,
    size: FastCheck.maxSafeNat(),
    isBlockList: FastCheck.boolean()
  })
)

/** A valid event with one field replaced by anything JSON can hold, or removed. */
const nearlyValidEvent = FastCheck.tuple(validEvent, FastCheck.nat(), FastCheck.option(FastCheck.jsonValue())).map(
  ([event, pick, value]) => {
    const keys = Object.keys(event)
    const key = keys[pick % keys.length]!
    const copy: Record<string, unknown> = { ...event }
    if (value === null) delete copy[key]
    else copy[key] = value
    return copy
  }
)

const isEvent = Schema.is(Event.Event)

/** What every decode result must be: a valid event that survives a round trip, or a typed error that says why. */
const checkResult = (result: Either.Either<Event.Event, Event.DecodeError>): void => {
  if (Either.isRight(result)) {
    expect(isEvent(result.right)).toBe(true)
    const again = Event.decodeJson(Event.encodeJson(result.right))
    expect(Either.isRight(again) && Equal.equals(again.right, result.right)).toBe(true)
  } else {
    expect(result.left).toBeInstanceOf(Event.DecodeError)
    expect(result.left.message.length).toBeGreaterThan(0)
    expect(result.left.event === undefined || Event.tags.includes(result.left.event)).toBe(true)
  }
}

describe("decoding fuzz", () => {
  it.prop("any string: a typed error or a valid event, never a throw", [FastCheck.string({ unit: "binary" })], ([line]) => {
    checkResult(Event.decodeJson(line))
  }, { fastCheck: { numRuns: 3_000 } })

  it.prop("any JSON text: a typed error or a valid event, never a throw", [FastCheck.json()], ([line]) => {
    checkResult(Event.decodeJson(line))
  }, { fastCheck: { numRuns: 3_000 } })

  it.prop("any value at all through decode: a typed error or a valid event", [FastCheck.anything()], ([value]) => {
    checkResult(Event.decode(value))
  }, { fastCheck: { numRuns: 2_000 } })

  it.prop("valid events decode to themselves", [validEvent], ([event]) => {
    const result = Event.decodeJson(JSON.stringify(event))
    expect(Either.isRight(result)).toBe(true)
    checkResult(result)
    expect(Event.encode(Either.getOrThrow(result))).toEqual(event)
  }, { fastCheck: { numRuns: 2_000 } })

  it.prop("events with a field broken or missing: a typed error naming the event", [nearlyValidEvent], ([event]) => {
    const result = Event.decodeJson(JSON.stringify(event))
    checkResult(result)
    if (Either.isLeft(result) && typeof event._tag === "string" && Event.tags.includes(event._tag as Event.Tag)) {
      expect(result.left.event).toBe(event._tag)
      expect(result.left.field).toBeDefined()
    }
  }, { fastCheck: { numRuns: 2_000 } })

  it.effect.prop(
    "valid events among garbage lines all arrive, in order per stream",
    [
      FastCheck.array(
        FastCheck.oneof(
          { arbitrary: validEvent.map((event) => ({ valid: true, line: JSON.stringify(event) })), weight: 2 },
          { arbitrary: nearlyValidEvent.map((event) => ({ valid: false, line: JSON.stringify(event) })), weight: 1 },
          { arbitrary: FastCheck.json().map((line) => ({ valid: false, line })), weight: 1 },
          { arbitrary: FastCheck.string().map((line) => ({ valid: false, line })), weight: 1 }
        ),
        { maxLength: 80 }
      ),
      FastCheck.integer({ min: 1, max: 4 })
    ],
    ([lines, shards]) =>
      Effect.gen(function*() {
        const decoded = lines.map(({ line, valid }) => ({ valid, result: Event.decodeJson(line) }))
        for (const { result, valid } of decoded) {
          if (valid) expect(Either.isRight(result)).toBe(true)
        }
        const events = decoded.flatMap(({ result }) => Either.isRight(result) ? [result.right] : [])

        const seen: Array<Event.Event> = []
        const record = (event: Event.Event) => {
          seen.push(event)
        }
        const observer = Effect.succeed(Observer.syncEvery(record))
        const stats = yield* Effect.flatMap(EventStream.EventStream, (stream) =>
          Effect.zipRight(Effect.forEach(events, stream.send, { discard: true }), stream.stats)).pipe(
            Effect.provide(EventStream.layer({ shards, capacity: 4, observers: [observer] }))
          )

        expect(stats.accepted).toBe(events.length)
        expect(seen).toHaveLength(events.length)
        const byStream = (list: ReadonlyArray<Event.Event>, id: string) => list.filter((e) => e.streamId === id)
        for (const id of new Set(events.filter((e) => e.streamId !== "").map((e) => e.streamId))) {
          expect(byStream(seen, id)).toEqual(byStream(events, id))
        }
      }),
    { fastCheck: { numRuns: 300 } }
  )
})
