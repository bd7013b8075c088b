/**
 * Distinct counts over a sliding time window in bounded memory: HyperLogLog
 * sketches (precision 12: 4,096 one-byte registers, relative standard error
 * 1.04/√4096 ≈ 1.6%, exact-ish below a few hundred through linear counting)
 * kept one per slice of the window, and merged when read.
 *
 * @internal
 */

/** Bits of the hash that pick a register. */
const precision = 12
const registers = 1 << precision
const alpha = 0.7213 / (1 + 1.079 / registers)
const twoTo32 = 2 ** 32

/** The HyperLogLog estimate of (merged) registers, with the small- and large-range corrections. */
const estimate = (merged: Uint8Array): number => {
  let sum = 0
  let zeros = 0
  for (let i = 0; i < registers; i++) {
    const rank = merged[i]!
    sum += 2 ** -rank
    if (rank === 0) zeros++
  }
  const raw = (alpha * registers * registers) / sum
  if (raw <= 2.5 * registers && zeros > 0) return registers * Math.log(registers / zeros)
  if (raw > twoTo32 / 30) return -twoTo32 * Math.log(1 - raw / twoTo32)
  return raw
}

/** Records a 32-bit hash in `sketch`. */
const add = (sketch: Uint8Array, hash: number): void => {
  const index = hash >>> (32 - precision)
  const rest = (hash << precision) >>> 0
  const rank = rest === 0 ? 32 - precision + 1 : Math.clz32(rest) + 1
  if (rank > sketch[index]!) sketch[index] = rank
}

/**
 * Distinct 32-bit hashes seen in the last `window` milliseconds, to a
 * granularity of `window / slices`: a value counts from when it was added
 * until between `window - window/slices` and `window` later.
 *
 * @internal
 */
export class SlidingDistinct {
  private readonly sketches: Array<Uint8Array>
  /** The slice number (time / slice length) each sketch holds; -Infinity when unused. */
  private readonly epochs: Array<number>
  private readonly slice: number

  constructor(readonly window: number, readonly slices: number) {
    this.slice = window / slices
    this.sketches = Array.from({ length: slices }, () => new Uint8Array(registers))
    this.epochs = Array.from({ length: slices }, () => -Infinity)
  }

  /** Adds a hash seen at `timestamp` (epoch ms); values older than the window are ignored. */
  add(hash: number, timestamp: number): void {
    const epoch = Math.floor(timestamp / this.slice)
    const i = ((epoch % this.slices) + this.slices) % this.slices
    const held = this.epochs[i]!
    if (held > epoch) return
    if (held < epoch) {
      this.sketches[i]!.fill(0)
      this.epochs[i] = epoch
    }
    add(this.sketches[i]!, hash)
  }

  /** The estimated number of distinct hashes in the window ending at `now` (epoch ms). */
  count(now: number): number {
    const oldest = Math.floor(now / this.slice) - this.slices
    const merged = new Uint8Array(registers)
    for (let s = 0; s < this.slices; s++) {
      if (this.epochs[s]! <= oldest) continue
      const sketch = this.sketches[s]!
      for (let i = 0; i < registers; i++) {
        if (sketch[i]! > merged[i]!) merged[i] = sketch[i]!
      }
    }
    return Math.round(estimate(merged))
  }
}
