/**
 * xxHash32 (seed 0) of the UTF-8 bytes of a string, as an unsigned 32-bit number.
 *
 * Inline rather than a package: it is synchronous (xxhash-wasm needs an async
 * WebAssembly start-up), faster on this hot path for short ASCII ids, and
 * proven equal to xxhash-wasm by a property test (test/Routing.test.ts).
 *
 * @internal
 */
const PRIME1 = 0x9e3779b1
const PRIME2 = 0x85ebca77
const PRIME3 = 0xc2b2ae3d
const PRIME4 = 0x27d4eb2f
const PRIME5 = 0x165667b1

const encoder = new TextEncoder()
let bytes = new Uint8Array(256)

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, PRIME2)) | 0, 13), PRIME1)

const readU32 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)

/** Writes the UTF-8 bytes of `s` into the shared buffer and returns their count. */
const utf8 = (s: string): number => {
  const n = s.length
  if (n * 3 > bytes.length) bytes = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return encoder.encodeInto(s, bytes).written
    bytes[i] = c
  }
  return n
}

/** @internal */
export const xxhash32 = (s: string): number => {
  const len = utf8(s)
  const b = bytes
  let i = 0
  let h: number
  if (len >= 16) {
    let v1 = (PRIME1 + PRIME2) | 0
    let v2 = PRIME2
    let v3 = 0
    let v4 = -PRIME1 | 0
    for (const limit = len - 16; i <= limit; i += 16) {
      v1 = round(v1, readU32(b, i))
      v2 = round(v2, readU32(b, i + 4))
      v3 = round(v3, readU32(b, i + 8))
      v4 = round(v4, readU32(b, i + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = PRIME5
  }
  h = (h + len) | 0
  for (; i + 4 <= len; i += 4) {
    h = Math.imul(rotl((h + Math.imul(readU32(b, i), PRIME3)) | 0, 17), PRIME4)
  }
  for (; i < len; i++) {
    h = Math.imul(rotl((h + Math.imul(b[i]!, PRIME5)) | 0, 11), PRIME1)
  }
  h ^= h >>> 15
  h = Math.imul(h, PRIME2)
  h ^= h >>> 13
  h = Math.imul(h, PRIME3)
  h ^= h >>> 16
  return h >>> 0
}
