/**
 * A counting observer for the CLI's summary: events by kind, sessions and
 * bytes per direction, summed over every shard.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Event from "../Event.js"
import * as Observer from "../Observer.js"

/** Counts of what the observers of a run have seen. */
export class Tally {
  /** Events delivered, by tag. */
  readonly byKind: Record<Event.Tag, number> = Object.fromEntries(Event.tags.map((tag) => [tag, 0])) as Record<
    Event.Tag,
    number
  >
  /** Sessions started. */
  started = 0
  /** Sessions finished. */
  finished = 0
  /** Bytes read from the remote side, i.e. sent to clients. */
  bytesToClient = 0
  /** Bytes read from clients. */
  bytesFromClient = 0

  /** Events delivered in all. */
  get events(): number {
    let total = 0
    for (const tag of Event.tags) total += this.byKind[tag]
    return total
  }

  /** Sessions started and not finished. */
  get open(): number {
    return this.started - this.finished
  }

  /** A factory of synchronous observers that all count into this tally (one per shard). */
  readonly observer: Observer.Factory = Effect.sync(() => {
    const byKind = this.byKind
    return Observer.sync({
      eventStart: () => {
        byKind.EventStart++
        this.started++
      },
      eventConnectedToDC: () => {
        byKind.EventConnectedToDC++
      },
      eventTraffic: (event) => {
        byKind.EventTraffic++
        if (event.isRead) this.bytesToClient += event.traffic
        else this.bytesFromClient += event.traffic
      },
      eventFinish: () => {
        byKind.EventFinish++
        this.finished++
      },
      eventDomainFronting: () => {
        byKind.EventDomainFronting++
      },
      eventConcurrencyLimited: () => {
        byKind.EventConcurrencyLimited++
      },
      eventIPBlocklisted: () => {
        byKind.EventIPBlocklisted++
      },
      eventReplayAttack: () => {
        byKind.EventReplayAttack++
      },
      eventIPListSize: () => {
        byKind.EventIPListSize++
      }
    })
  })
}
