/**
 * Observers receive the events of the sessions routed to their shard, as
 * mtg's `events.Observer`. The stream runs one instance per shard, so an
 * instance sees every event of a session, in order, and may keep per-session
 * state without locks.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Event from "./Event.js"
import { handlerOf, SyncHandlers, type SyncTable } from "./internal/observer.js"

/** An observer: one handler per event, and `shutdown`, run once after its last event. */
export interface Observer {
  readonly eventStart: (event: Event.EventStart) => Effect.Effect<void>
  readonly eventConnectedToDC: (event: Event.EventConnectedToDC) => Effect.Effect<void>
  readonly eventTraffic: (event: Event.EventTraffic) => Effect.Effect<void>
  readonly eventFinish: (event: Event.EventFinish) => Effect.Effect<void>
  readonly eventDomainFronting: (event: Event.EventDomainFronting) => Effect.Effect<void>
  readonly eventConcurrencyLimited: (event: Event.EventConcurrencyLimited) => Effect.Effect<void>
  readonly eventIPBlocklisted: (event: Event.EventIPBlocklisted) => Effect.Effect<void>
  readonly eventReplayAttack: (event: Event.EventReplayAttack) => Effect.Effect<void>
  readonly eventIPListSize: (event: Event.EventIPListSize) => Effect.Effect<void>
  readonly shutdown: Effect.Effect<void>
  /** @internal */
  readonly [SyncHandlers]?: SyncTable
}

/**
 * Makes one observer instance. The stream runs a factory once per shard, in
 * the stream's scope, so a factory may require `Scope` to acquire resources.
 */
export type Factory<E = never, R = never> = Effect.Effect<Observer, E, R>

/** The handlers of an observer, each optional. */
export type Handlers = Partial<Omit<Observer, typeof SyncHandlers>>

/** The synchronous handlers of an observer, each optional. */
export type SyncHandlersOf = {
  readonly [K in keyof typeof handlerOf as (typeof handlerOf)[K]]?: (event: Extract<Event.Event, { _tag: K }>) => void
}

const ignore = (): Effect.Effect<void> => Effect.void
const names = Object.values(handlerOf)

/** Makes an observer from some Effect handlers; the others ignore their events. */
export const make = (handlers: Handlers): Observer => {
  const observer: Record<string, unknown> = { shutdown: handlers.shutdown ?? Effect.void }
  for (const name of names) observer[name] = handlers[name] ?? ignore
  return observer as unknown as Observer
}

/**
 * Makes an observer from synchronous handlers. The shard calls them directly,
 * with no Effect run per event: the fastest kind of observer, for handlers that
 * only update memory (counters, gauges, per-session maps). A handler that
 * throws is isolated like a failing Effect handler.
 */
export const sync = (handlers: SyncHandlersOf & { readonly shutdown?: Effect.Effect<void> | undefined }): Observer => {
  const table: Record<string, (event: any) => void> = {}
  const observer: Record<string | symbol, unknown> = { shutdown: handlers.shutdown ?? Effect.void, [SyncHandlers]: table }
  for (const name of names) {
    const handler = (handlers as Record<string, ((event: any) => void) | undefined>)[name]
    table[name] = handler ?? constVoid
    observer[name] = handler === undefined ? ignore : (event: unknown) => Effect.sync(() => handler(event))
  }
  return observer as unknown as Observer
}

const constVoid = (): void => {}

const forEveryEvent = <H>(handler: H): Record<(typeof names)[number], H> =>
  Object.fromEntries(names.map((name) => [name, handler])) as Record<(typeof names)[number], H>

/** Makes an observer whose one Effect handler receives every event. */
export const makeEvery = (
  handler: (event: Event.Event) => Effect.Effect<void>,
  shutdown: Effect.Effect<void> = Effect.void
): Observer => make({ ...forEveryEvent(handler), shutdown })

/** Makes a synchronous observer (see `sync`) whose one handler receives every event. */
export const syncEvery = (handler: (event: Event.Event) => void, shutdown: Effect.Effect<void> = Effect.void): Observer =>
  sync({ ...forEveryEvent(handler), shutdown })

/** An observer that ignores every event (mtg's `NoopObserver`). */
export const noop: Observer = sync({})

/** A factory of `noop` observers. */
export const noopFactory: Factory = Effect.succeed(noop)
