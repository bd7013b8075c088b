import { SlidingDistinct } from "./distinctCount.js"
import { xxhash32 } from "./xxhash32.js"

/** Slices per window: a window's count is exact in time to 1/24 of its length. */
const slices = 24

/**
 * Distinct client IPs, shared by the shards: those with an open session
 * (exact: a reference count per IP, bounded by the open sessions) and those
 * that started a session within each window (HyperLogLog, bounded memory).
 *
 * @internal
 */
export class ClientCounts {
  private readonly open = new Map<string, number>()
  private readonly windows: ReadonlyArray<SlidingDistinct>

  constructor(windows: ReadonlyArray<number>) {
    this.windows = windows.map((window) => new SlidingDistinct(window, slices))
  }

  /** A session of `ip` started at `timestamp` (epoch ms). */
  opened(ip: string, timestamp: number): void {
    this.open.set(ip, (this.open.get(ip) ?? 0) + 1)
    const hash = xxhash32(ip)
    for (const window of this.windows) window.add(hash, timestamp)
  }

  /** A session of `ip` finished. */
  closed(ip: string): void {
    const sessions = this.open.get(ip)
    if (sessions === undefined) return
    if (sessions > 1) this.open.set(ip, sessions - 1)
    else this.open.delete(ip)
  }

  /** Distinct IPs with an open session. */
  get online(): number {
    return this.open.size
  }

  /** Estimated distinct IPs that started a session in the window `i` ending at `now`. */
  seen(i: number, now: number): number {
    return this.windows[i]!.count(now)
  }
}
