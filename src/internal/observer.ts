import type * as Event from "../Event.js"

/** The handler name of each event tag, as mtg's methods in camelCase. @internal */
export const handlerOf = {
  EventStart: "eventStart",
  EventConnectedToDC: "eventConnectedToDC",
  EventTraffic: "eventTraffic",
  EventFinish: "eventFinish",
  EventDomainFronting: "eventDomainFronting",
  EventConcurrencyLimited: "eventConcurrencyLimited",
  EventIPBlocklisted: "eventIPBlocklisted",
  EventReplayAttack: "eventReplayAttack",
  EventIPListSize: "eventIPListSize"
} as const satisfies Record<Event.Tag, string>

/** A handler name. @internal */
export type HandlerName = (typeof handlerOf)[Event.Tag]

/** Where a synchronous observer keeps its plain handlers, which the shard calls directly. @internal */
export const SyncHandlers: unique symbol = Symbol.for("mtg-events/Observer/SyncHandlers")

/** A complete table of synchronous handlers. @internal */
export type SyncTable = { readonly [K in HandlerName]: (event: any) => void }
