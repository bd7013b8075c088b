import { describe, expect, it } from "@effect/vitest"
import { Effect, HashMap, Layer, Logger, LogLevel } from "effect"
import { Event, EventStream, LogObserver } from "../src/index.js"

interface Line {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

const capture = (minimum: LogLevel.LogLevel) => {
  const lines: Array<Line> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push({
      level: logLevel.label,
      message: Array.isArray(message) && message.length === 1 ? message[0] : message,
      annotations: Object.fromEntries(HashMap.toEntries(annotations))
    })
  })
  return { lines, layer: Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(minimum)) }
}

const run = (events: ReadonlyArray<Event.Event>) =>
  Effect.flatMap(EventStream.EventStream, (stream) => stream.sendAll(events)).pipe(
    Effect.provide(EventStream.layer({ shards: 2, observers: [LogObserver.observer] }))
  )

describe("LogObserver", () => {
  it.effect("logs each event at debug level, its tag as the message and its fields as annotations", () => {
    const { layer, lines } = capture(LogLevel.Debug)
    return Effect.gen(function*() {
      yield* run([
        new Event.EventStart({ streamId: "s1", timestamp: 5, remoteIp: "10.0.0.1" }),
        new Event.EventConnectedToDC({ streamId: "s1", timestamp: 6, remoteIp: "149.154.167.51", dc: 2 }),
        new Event.EventTraffic({ streamId: "s1", timestamp: 7, traffic: 42, isRead: true }),
        new Event.EventIPListSize({ streamId: "", timestamp: 8, size: 3, isBlockList: false }),
        new Event.EventFinish({ streamId: "s1", timestamp: 9 })
      ])
      const byMessage = (message: string) => lines.filter((line) => line.message === message)
      expect(lines.every((line) => line.level === "DEBUG")).toBe(true)
      expect(byMessage("EventStart").map((l) => l.annotations)).toEqual([
        { streamId: "s1", timestamp: 5, remoteIp: "10.0.0.1" }
      ])
      expect(byMessage("EventConnectedToDC").map((l) => l.annotations)).toEqual([
        { streamId: "s1", timestamp: 6, remoteIp: "149.154.167.51", dc: 2 }
      ])
      expect(byMessage("EventTraffic").map((l) => l.annotations)).toEqual([
        { streamId: "s1", timestamp: 7, traffic: 42, isRead: true }
      ])
      expect(byMessage("EventIPListSize").map((l) => l.annotations)).toEqual([
        { streamId: "", timestamp: 8, size: 3, isBlockList: false }
      ])
      expect(byMessage("EventFinish").map((l) => l.annotations)).toEqual([{ streamId: "s1", timestamp: 9 }])
      expect(lines.filter((line) => String(line.message).startsWith("Event")).length).toBe(5)
    }).pipe(Effect.provide(layer))
  })

  it.effect("logs nothing when the minimum level is above Debug", () => {
    const { layer, lines } = capture(LogLevel.Info)
    return Effect.gen(function*() {
      yield* run([yield* Event.start("s1", "10.0.0.1"), yield* Event.finish("s1")])
      expect(lines).toEqual([])
    }).pipe(Effect.provide(layer))
  })
})
