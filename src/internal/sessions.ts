import { BlockList, isIPv4 } from "node:net"
import type * as Event from "../Event.js"

/** The `ip_family` label of a client. @internal */
export type IpFamily = "ipv4" | "ipv6"

const ipv4Mapped = new BlockList()
ipv4Mapped.addSubnet("::ffff:0:0", 96, "ipv6")

/** `ipv4` for IPv4 and IPv4-mapped IPv6 addresses (as Go's `To4`), else `ipv6`. @internal */
export const ipFamilyOf = (ip: string): IpFamily =>
  isIPv4(ip) || (ip.includes(":") && ipv4Mapped.check(ip, "ipv6")) ? "ipv4" : "ipv6"

/** What a metrics observer knows of one open session. @internal */
export interface Session<T> {
  readonly clientIp: string
  readonly ipFamily: IpFamily
  /** When the session started, epoch milliseconds. */
  readonly startedAt: number
  /** The sink's handle of the session's Telegram connection, once it connected to a DC. */
  telegram: T | undefined
  /** Whether the session was sent to the fronting domain. */
  fronted: boolean
}

/**
 * The metric updates of a session's steps, in mtg's vocabulary; `T` is the
 * sink's handle of a Telegram connection (its labels or series). @internal
 */
export interface Sink<T> {
  /** A session started: `client_connections` +1. */
  readonly started: (session: Session<T>) => void
  /** The session connected to Telegram, `seconds` after it started: `telegram_connections` +1. */
  readonly connected: (session: Session<T>, telegramIp: string, dc: number, seconds: number) => T
  /** A Telegram connection closed: `telegram_connections` -1. */
  readonly disconnected: (telegram: T) => void
  /** A domain fronting event: `domain_fronting` +1, and `domain_fronting_connections` +1 when `first`. */
  readonly fronted: (session: Session<T>, first: boolean) => void
  /** Bytes relayed with Telegram (`telegram` is undefined before any DC, as mtg's empty labels). */
  readonly telegramTraffic: (telegram: T | undefined, bytes: number, toClient: boolean) => void
  /** Bytes relayed with the fronting domain. */
  readonly frontingTraffic: (bytes: number, toClient: boolean) => void
  /** The session finished, `seconds` after it started: `client_connections` -1, and fronting's if fronted. */
  readonly finished: (session: Session<T>, seconds: number) => void
}

/** The session handlers of a metrics observer, and a way to finish what is still open. @internal */
export interface Sessions {
  readonly eventStart: (event: Event.EventStart) => void
  readonly eventConnectedToDC: (event: Event.EventConnectedToDC) => void
  readonly eventDomainFronting: (event: Event.EventDomainFronting) => void
  readonly eventTraffic: (event: Event.EventTraffic) => void
  readonly eventFinish: (event: Event.EventFinish) => void
  /** Finishes every open session at `timestamp`. */
  readonly finishAll: (timestamp: number) => void
}

/**
 * The per-session state machine shared by the metric observers: one instance
 * per shard, as mtg keeps its stream map in each observer. Events of unknown
 * sessions are ignored, as mtg. Where mtg would leave a gauge counting (a
 * second DC connection, a second fronting event, a session that both
 * connected and fronted, a repeated start), every increment made for a
 * session is undone exactly once, so the gauges always equal the open sessions.
 *
 * @internal
 */
export const makeSessions = <T>(sink: Sink<T>): Sessions => {
  const open = new Map<string, Session<T>>()

  const secondsSince = (session: Session<T>, timestamp: number): number =>
    Math.max(0, timestamp - session.startedAt) / 1000

  const finish = (streamId: string, session: Session<T>, timestamp: number): void => {
    open.delete(streamId)
    sink.finished(session, secondsSince(session, timestamp))
    if (session.telegram !== undefined) sink.disconnected(session.telegram)
  }

  return {
    eventStart: (event) => {
      const previous = open.get(event.streamId)
      if (previous !== undefined) finish(event.streamId, previous, event.timestamp)
      const session: Session<T> = {
        clientIp: event.remoteIp,
        ipFamily: ipFamilyOf(event.remoteIp),
        startedAt: event.timestamp,
        telegram: undefined,
        fronted: false
      }
      open.set(event.streamId, session)
      sink.started(session)
    },
    eventConnectedToDC: (event) => {
      const session = open.get(event.streamId)
      if (session === undefined) return
      if (session.telegram !== undefined) sink.disconnected(session.telegram)
      session.telegram = sink.connected(session, event.remoteIp, event.dc, secondsSince(session, event.timestamp))
    },
    eventDomainFronting: (event) => {
      const session = open.get(event.streamId)
      if (session === undefined) return
      const first = !session.fronted
      session.fronted = true
      sink.fronted(session, first)
    },
    eventTraffic: (event) => {
      const session = open.get(event.streamId)
      if (session === undefined) return
      if (session.fronted) sink.frontingTraffic(event.traffic, event.isRead)
      else sink.telegramTraffic(session.telegram, event.traffic, event.isRead)
    },
    eventFinish: (event) => {
      const session = open.get(event.streamId)
      if (session !== undefined) finish(event.streamId, session, event.timestamp)
    },
    finishAll: (timestamp) => {
      for (const [streamId, session] of open) finish(streamId, session, timestamp)
    }
  }
}
