/**
 * Decoding events at a trust boundary: `Event.decode` of parsed objects and
 * `Event.decodeJson` of JSON lines; every input is valid and must decode.
 */
import { Either } from "effect"
import { Event } from "../src/index.js"
import { type Sample, timeSync } from "./harness.js"

const expectAll = (decoded: number, expected: number): void => {
  if (decoded !== expected) throw new Error(`decoded ${decoded} of ${expected} events`)
}

/** `Event.decode` of plain objects, as `JSON.parse` gives them. */
export const decodeObjects = (events: ReadonlyArray<Event.Event>) => {
  const inputs = events.map((event) => JSON.parse(Event.encodeJson(event)) as unknown)
  return (): Sample => {
    let decoded = 0
    const sample = timeSync(inputs.length, () => {
      for (let i = 0; i < inputs.length; i++) if (Either.isRight(Event.decode(inputs[i]))) decoded++
    })
    expectAll(decoded, inputs.length)
    return sample
  }
}

/** `Event.decodeJson` of JSON lines: parse and decode. */
export const decodeJsonLines = (events: ReadonlyArray<Event.Event>) => {
  const lines = events.map(Event.encodeJson)
  return (): Sample => {
    let decoded = 0
    const sample = timeSync(lines.length, () => {
      for (let i = 0; i < lines.length; i++) if (Either.isRight(Event.decodeJson(lines[i]!))) decoded++
    })
    expectAll(decoded, lines.length)
    return sample
  }
}
