/**
 * Our `EventStream` end to end: typed events built beforehand are sent, routed
 * to their shard, and counted by the observers; a run ends when the last
 * expected handler call happened.
 */
import { Deferred, Effect } from "effect"
import { type Event, EventStream } from "../src/index.js"
import { effectCounter, makeTally, syncCounter, type Tally } from "./counting.js"
import type { Sample } from "./harness.js"

/** Which observers a run has. */
export type Observers = "sync" | "effect" | "sync+sync" | "effect+effect"

/** How a run sends its events. */
export type SendPath = "send" | "sendAll" | "unsafeSend" | "session.send" | "session.unsafeSend"

/** One end-to-end configuration. */
export interface Config {
  readonly shards: number
  readonly observers: Observers
  readonly path: SendPath
}

const factoriesOf = (observers: Observers, tally: Tally) =>
  observers.split("+").map((kind) => (kind === "sync" ? syncCounter(tally) : effectCounter(tally)))

/** What sends one event: the stream itself, or the sender of the event's session. */
type Sender = Pick<EventStream.Service, "send" | "unsafeSend">

/**
 * Per event, the sender of its session, as a proxy connection holds its own.
 * Which session each event belongs to is worked out before the timer starts;
 * the session senders are made inside it, once per session.
 */
const sessionSenders = (events: ReadonlyArray<Event.Event>) => {
  const indexOf = new Map<string, number>()
  const sessionOf = Uint32Array.from(events, (event) => {
    let i = indexOf.get(event.streamId)
    if (i === undefined) indexOf.set(event.streamId, i = indexOf.size)
    return i
  })
  const ids = [...indexOf.keys()]
  const senders = new Array<Sender>(events.length)
  return (stream: EventStream.Service): ReadonlyArray<Sender> => {
    const sessions = ids.map((id) => stream.session(id))
    for (let i = 0; i < sessionOf.length; i++) senders[i] = sessions[sessionOf[i]!]!
    return senders
  }
}

/**
 * Offers from plain code, as socket callbacks would: when a shard is full,
 * waits a turn of the event loop and goes on. `offerFrom` offers from an index
 * until a shard is full and returns where it stopped.
 */
const offerInTurns = (count: number, offerFrom: (from: number) => number): Promise<void> =>
  new Promise((resolve) => {
    let i = 0
    const turn = () => {
      i = offerFrom(i)
      if (i < count) setImmediate(turn)
      else resolve()
    }
    turn()
  })

/** One run of a configuration. */
export const endToEnd = (events: ReadonlyArray<Event.Event>, config: Config) => {
  const sessions = config.path.startsWith("session.") ? sessionSenders(events) : undefined
  const sendWith = (stream: EventStream.Service): Effect.Effect<void> => {
    switch (config.path) {
      case "send":
        return Effect.gen(function*() {
          for (let i = 0; i < events.length; i++) yield* stream.send(events[i]!)
        })
      case "sendAll":
        return stream.sendAll(events)
      case "unsafeSend":
        return Effect.promise(() =>
          offerInTurns(events.length, (i) => {
            while (i < events.length && stream.unsafeSend(events[i]!) === "accepted") i++
            return i
          })
        )
      case "session.send":
        return Effect.gen(function*() {
          const senders = sessions!(stream)
          for (let i = 0; i < events.length; i++) yield* senders[i]!.send(events[i]!)
        })
      case "session.unsafeSend":
        return Effect.promise(() => {
          const senders = sessions!(stream)
          return offerInTurns(events.length, (i) => {
            while (i < events.length && senders[i]!.unsafeSend(events[i]!) === "accepted") i++
            return i
          })
        })
    }
  }
  return (): Promise<Sample> =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const fanOut = config.observers.split("+").length
      const tally = yield* makeTally(events.length * fanOut)
      const stream = yield* EventStream.make({ shards: config.shards, observers: factoriesOf(config.observers, tally) })
      const start = performance.now()
      yield* sendWith(stream)
      yield* Deferred.await(tally.done)
      return { events: events.length, ms: performance.now() - start }
    })))
}
