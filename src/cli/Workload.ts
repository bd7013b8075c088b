/**
 * A simulated MTProto-proxy workload: a fixed number of concurrent client
 * sessions, each a start, a Telegram DC connection (or a domain-fronting
 * detour, sometimes after a replay attack), traffic both ways and a finish,
 * with concurrency-limit refusals, IP-list hits and IP-list sizes at low
 * rates. A seeded PRNG drives it: the same seed gives the same events.
 *
 * @since 0.1.0
 */
import { PCGRandom } from "effect/Utils"
import * as Event from "../Event.js"

/** Options of a workload. */
export interface Options {
  /** The PRNG seed. */
  readonly seed: number
  /** Sessions open at once: each finished session is replaced by a new one. */
  readonly sessions: number
  /** How many events in all; unbounded when absent (call `end` to wind down). */
  readonly events?: number | undefined
}

/** Telegram's production datacenters, as `[dc, ip, weight]`. */
const datacenters: ReadonlyArray<readonly [number, string, number]> = [
  [1, "149.154.175.50", 10],
  [2, "149.154.167.51", 40],
  [3, "149.154.175.100", 5],
  [4, "149.154.167.91", 30],
  [5, "91.108.56.130", 15]
]
const dcByPercent = datacenters.flatMap((dc) => Array.from({ length: dc[2] }, () => dc))

/** A session slot's phase. */
const Idle = 0, Started = 1, Replayed = 2, Relaying = 3

/** Rates per 10,000 steps of the events that belong to no session. */
const concurrencyLimitedRate = 20
const ipBlocklistedRate = 20
const ipListSizeRate = 5

const idAlphabet = "0123456789abcdefghijklmnopqrstuv"

/**
 * Generates the events of a workload in batches. Every session it starts is
 * finished before the event budget runs out (or after `end`), so a complete
 * run leaves no session open.
 */
export class Workload {
  /** Events generated so far. */
  generated = 0
  /** Sessions started and not yet finished. */
  open = 0

  private budget: number
  private readonly random: PCGRandom
  private readonly ids: Array<string>
  private readonly phase: Uint8Array
  private readonly trafficLeft: Uint32Array
  private blocklistSize: number
  private finishCursor = 0

  constructor(options: Options) {
    this.budget = options.events ?? Number.POSITIVE_INFINITY
    this.random = new PCGRandom(options.seed)
    this.ids = Array.from({ length: options.sessions }, () => "")
    this.phase = new Uint8Array(options.sessions)
    this.trafficLeft = new Uint32Array(options.sessions)
    this.blocklistSize = 10_000 + this.random.integer(40_000)
  }

  /** Whether every event has been generated. */
  get done(): boolean {
    return this.generated >= this.budget
  }

  /** Winds down: no new sessions; the open ones finish, then the workload is done. */
  end(): void {
    this.budget = Math.min(this.budget, this.generated + this.open)
  }

  /** The next events, at most `max`, stamped `timestamp`; empty once done. */
  next(max: number, timestamp: number): Array<Event.Event> {
    const batch: Array<Event.Event> = []
    while (batch.length < max && this.generated < this.budget) {
      batch.push(this.step(timestamp))
      this.generated++
    }
    return batch
  }

  private step(timestamp: number): Event.Event {
    const spare = this.budget - this.generated - this.open
    if (this.generated < 2 && spare >= 2) return this.ipListSize(timestamp, this.generated === 0)
    if (spare < 2) return this.windDown(spare, timestamp)
    const roll = this.random.integer(10_000)
    if (roll < concurrencyLimitedRate) {
      return Event.unsafeMake(Event.EventConcurrencyLimited, { streamId: "", timestamp })
    }
    if (roll < concurrencyLimitedRate + ipBlocklistedRate) {
      return Event.unsafeMake(Event.EventIPBlocklisted, {
        streamId: "",
        timestamp,
        remoteIp: this.clientIp(),
        isBlockList: this.random.integer(4) !== 0
      })
    }
    if (roll < concurrencyLimitedRate + ipBlocklistedRate + ipListSizeRate) {
      this.blocklistSize = Math.max(0, this.blocklistSize + this.random.integer(201) - 100)
      return this.ipListSize(timestamp, true)
    }
    return this.sessionStep(this.random.integer(this.phase.length), timestamp)
  }

  /** Advances the session in `slot` by one event, starting one when the slot is idle. */
  private sessionStep(slot: number, timestamp: number): Event.Event {
    const streamId = this.ids[slot]!
    switch (this.phase[slot]) {
      case Idle: {
        const id = this.sessionId()
        this.ids[slot] = id
        this.phase[slot] = Started
        this.trafficLeft[slot] = 2 + this.random.integer(80)
        this.open++
        return Event.unsafeMake(Event.EventStart, { streamId: id, timestamp, remoteIp: this.clientIp() })
      }
      case Started: {
        const roll = this.random.integer(1000)
        if (roll < 5) {
          this.phase[slot] = Replayed
          return Event.unsafeMake(Event.EventReplayAttack, { streamId, timestamp })
        }
        this.phase[slot] = Relaying
        if (roll < 35) return Event.unsafeMake(Event.EventDomainFronting, { streamId, timestamp })
        const [dc, remoteIp] = dcByPercent[this.random.integer(100)]!
        return Event.unsafeMake(Event.EventConnectedToDC, { streamId, timestamp, remoteIp, dc })
      }
      case Replayed: {
        this.phase[slot] = Relaying
        return Event.unsafeMake(Event.EventDomainFronting, { streamId, timestamp })
      }
      default: {
        if (this.trafficLeft[slot]! > 0) {
          this.trafficLeft[slot]!--
          return this.traffic(streamId, timestamp)
        }
        return this.finish(slot, timestamp)
      }
    }
  }

  /** Near the end of the budget: one last packet when a single event is spare, else finish an open session. */
  private windDown(spare: number, timestamp: number): Event.Event {
    const slot = this.nextOpenSlot()
    if (slot === undefined) return this.ipListSize(timestamp, true)
    return spare >= 1 ? this.traffic(this.ids[slot]!, timestamp) : this.finish(slot, timestamp)
  }

  private nextOpenSlot(): number | undefined {
    if (this.open === 0) return undefined
    while (this.phase[this.finishCursor] === Idle) {
      this.finishCursor = (this.finishCursor + 1) % this.phase.length
    }
    return this.finishCursor
  }

  private finish(slot: number, timestamp: number): Event.Event {
    const streamId = this.ids[slot]!
    this.ids[slot] = ""
    this.phase[slot] = Idle
    this.open--
    return Event.unsafeMake(Event.EventFinish, { streamId, timestamp })
  }

  /** A packet: small requests from the client, larger responses to it. */
  private traffic(streamId: string, timestamp: number): Event.Event {
    const isRead = this.random.integer(100) < 55
    const traffic = isRead ? 64 + this.random.integer(16_320) : 40 + this.random.integer(1_420)
    return Event.unsafeMake(Event.EventTraffic, { streamId, timestamp, traffic, isRead })
  }

  private ipListSize(timestamp: number, isBlockList: boolean): Event.Event {
    const size = isBlockList ? this.blocklistSize : 0
    return Event.unsafeMake(Event.EventIPListSize, { streamId: "", timestamp, size, isBlockList })
  }

  /** A client address: four in five IPv4. */
  private clientIp(): string {
    const r = this.random
    if (r.integer(5) !== 0) return `${1 + r.integer(223)}.${r.integer(256)}.${r.integer(256)}.${1 + r.integer(254)}`
    return `2a0${r.integer(10)}:${r.integer(65536).toString(16)}:${r.integer(65536).toString(16)}::${
      (1 + r.integer(65535)).toString(16)
    }`
  }

  /** A 20-character session id, as mtg's stream ids look. */
  private sessionId(): string {
    let id = ""
    for (let i = 0; i < 20; i++) id += idAlphabet[this.random.integer(32)]
    return id
  }
}
