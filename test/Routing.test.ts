import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import xxhash from "xxhash-wasm"
import { EventStream } from "../src/index.js"
import { xxhash32 } from "../src/internal/xxhash32.js"

const { h32 } = await xxhash()

describe("routing", () => {
  it("xxhash32 matches the known vectors", () => {
    expect(xxhash32("")).toBe(0x02cc5d05)
    expect(xxhash32("abc")).toBe(0x32d153ff)
  })

  it("shardOf is xxhash32 mod n for the known vectors", () => {
    expect(EventStream.shardOf("", 7)).toBe(0x02cc5d05 % 7)
    expect(EventStream.shardOf("abc", 5)).toBe(0x32d153ff % 5)
  })

  it.prop(
    "xxhash32 equals xxhash-wasm's h32 on any string, ASCII or not",
    [FastCheck.oneof(FastCheck.string({ maxLength: 80 }), FastCheck.fullUnicodeString({ maxLength: 80 }))],
    ([s]) => {
      expect(xxhash32(s)).toBe(h32(s))
    },
    { fastCheck: { numRuns: 2000 } }
  )

  it.prop(
    "shardOf picks mtg's shard: h32(streamId) mod shards",
    [FastCheck.fullUnicodeString({ minLength: 1, maxLength: 40 }), FastCheck.integer({ min: 1, max: 64 })],
    ([streamId, shards]) => {
      const shard = EventStream.shardOf(streamId, shards)
      expect(shard).toBe(h32(streamId) % shards)
      expect(shard).toBeGreaterThanOrEqual(0)
      expect(shard).toBeLessThan(shards)
    },
    { fastCheck: { numRuns: 1000 } }
  )

  it("long ids hash the same after a short id reused the shared buffer", () => {
    const long = "é".repeat(500)
    expect(xxhash32("x")).toBe(h32("x"))
    expect(xxhash32(long)).toBe(h32(long))
    expect(xxhash32("x")).toBe(h32("x"))
  })
})
