import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { Event, EventStream, Prometheus } from "../src/index.js"
import { makeBarrier, parseExposition, seriesOf } from "./support/exposition.js"

/** Client addresses and their `ip_family`. */
const clients = {
  "10.0.0.1": "ipv4",
  "10.0.0.2": "ipv4",
  "::ffff:10.0.0.3": "ipv4",
  "2001:db8::1": "ipv6",
  "2001:db8::2": "ipv6"
} as const
type ClientIp = keyof typeof clients

/** One session's script: start, maybe a DC or fronting, traffic, maybe a finish. */
interface Script {
  readonly ip: ClientIp
  readonly route: { readonly _tag: "telegram"; readonly ip: string; readonly dc: number } | { readonly _tag: "fronted" } | {
    readonly _tag: "none"
  }
  readonly traffic: ReadonlyArray<{ readonly bytes: number; readonly toClient: boolean }>
  readonly finished: boolean
}

const script: fc.Arbitrary<Script> = fc.record({
  ip: fc.constantFrom(...(Object.keys(clients) as Array<ClientIp>)),
  route: fc.oneof(
    fc.record({
      _tag: fc.constant("telegram" as const),
      ip: fc.constantFrom("149.154.167.51", "149.154.175.50", "2001:b28:f23d:f001::a"),
      dc: fc.integer({ min: -2, max: 5 })
    }),
    fc.constant({ _tag: "fronted" as const }),
    fc.constant({ _tag: "none" as const })
  ),
  traffic: fc.array(fc.record({ bytes: fc.nat({ max: 1_000_000 }), toClient: fc.boolean() }), { maxLength: 6 }),
  finished: fc.boolean()
})

const eventsOf = (s: Script, streamId: string): Array<Event.Event> => [
  new Event.EventStart({ streamId, timestamp: 0, remoteIp: s.ip }),
  ...(s.route._tag === "telegram"
    ? [new Event.EventConnectedToDC({ streamId, timestamp: 1, remoteIp: s.route.ip, dc: s.route.dc })]
    : s.route._tag === "fronted"
    ? [new Event.EventDomainFronting({ streamId, timestamp: 1 })]
    : []),
  ...s.traffic.map(({ bytes, toClient }) =>
    new Event.EventTraffic({ streamId, timestamp: 2, traffic: bytes, isRead: toClient })
  ),
  ...(s.finished ? [new Event.EventFinish({ streamId, timestamp: 3 })] : [])
]

/** Merges the sessions' events, each session in order: `picks` choose which session goes next. */
const interleave = (sessions: ReadonlyArray<Array<Event.Event>>, picks: ReadonlyArray<number>): Array<Event.Event> => {
  const queues = sessions.map((events) => [...events])
  const merged: Array<Event.Event> = []
  let pick = 0
  for (let left = queues.filter((q) => q.length > 0); left.length > 0; left = left.filter((q) => q.length > 0)) {
    const queue = left[(picks[pick++ % Math.max(1, picks.length)] ?? 0) % left.length]!
    merged.push(queue.shift()!)
  }
  return merged
}

const add = (record: Record<string, number>, key: string, n: number) => {
  record[key] = (record[key] ?? 0) + n
}
const nonZero = (series: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(series).filter(([, value]) => value !== 0))
const direction = (toClient: boolean) => toClient ? "to_client" : "from_client"

/** The metrics the scripts should leave while the stream is open (series that are not 0). */
const expectedOf = (scripts: ReadonlyArray<Script>) => {
  const clientConnections: Record<string, number> = {}
  const telegramConnections: Record<string, number> = {}
  const frontingConnections: Record<string, number> = {}
  const telegramTraffic: Record<string, number> = {}
  const frontingTraffic: Record<string, number> = {}
  const online = new Set<string>()
  let domainFronting = 0
  for (const s of scripts) {
    const family = `ip_family=${clients[s.ip]}`
    if (s.route._tag === "fronted") domainFronting++
    for (const { bytes, toClient } of s.traffic) {
      if (s.route._tag === "fronted") add(frontingTraffic, `direction=${direction(toClient)}`, bytes)
      else if (s.route._tag === "telegram") {
        add(telegramTraffic, `dc=${s.route.dc},direction=${direction(toClient)},telegram_ip=${s.route.ip}`, bytes)
      } else add(telegramTraffic, `dc=,direction=${direction(toClient)},telegram_ip=`, bytes)
    }
    if (s.finished) continue
    online.add(s.ip)
    add(clientConnections, family, 1)
    if (s.route._tag === "telegram") add(telegramConnections, `dc=${s.route.dc},telegram_ip=${s.route.ip}`, 1)
    if (s.route._tag === "fronted") add(frontingConnections, family, 1)
  }
  return {
    clientConnections,
    telegramConnections,
    frontingConnections,
    telegramTraffic: nonZero(telegramTraffic),
    frontingTraffic: nonZero(frontingTraffic),
    domainFronting: nonZero({ "": domainFronting }),
    online: nonZero({ "": online.size })
  }
}

const actualOf = (text: string) => {
  const scraped = parseExposition(text)
  const of = (name: string) => nonZero(seriesOf(scraped, `mtg_${name}`))
  return {
    clientConnections: of("client_connections"),
    telegramConnections: of("telegram_connections"),
    frontingConnections: of("domain_fronting_connections"),
    telegramTraffic: of("telegram_traffic"),
    frontingTraffic: of("domain_fronting_traffic"),
    domainFronting: of("domain_fronting"),
    online: of("online_clients"),
    durations: seriesOf(scraped, "mtg_session_duration_seconds_count")
  }
}

describe("Prometheus metrics, property", () => {
  it.effect.prop(
    "gauges equal the open sessions and traffic counters the bytes sent, in any interleaving, on any shard count",
    {
      shards: fc.integer({ min: 1, max: 5 }),
      scripts: fc.array(script, { maxLength: 12 }),
      picks: fc.array(fc.nat(), { maxLength: 80 })
    },
    ({ picks, scripts, shards }) =>
      Effect.gen(function*() {
        const { registry } = yield* Prometheus.Metrics
        const events = interleave(scripts.map((s, i) => eventsOf(s, `session-${i}`)), picks)
        const barrier = yield* makeBarrier
        const { durations: _, ...whileOpen } = yield* Effect.gen(function*() {
          const stream = yield* EventStream.EventStream
          yield* stream.sendAll(events)
          yield* barrier.delivered(events.length)
          return actualOf(yield* Effect.promise(() => registry.metrics()))
        }).pipe(Effect.provide(EventStream.layer({ shards, observers: [Prometheus.observer, barrier.observer] })))
        const expected = expectedOf(scripts)
        expect(whileOpen).toEqual(expected)

        const afterShutdown = actualOf(yield* Effect.promise(() => registry.metrics()))
        expect(afterShutdown.telegramTraffic).toEqual(expected.telegramTraffic)
        expect(afterShutdown.frontingTraffic).toEqual(expected.frontingTraffic)
        expect(afterShutdown.clientConnections).toEqual({})
        expect(afterShutdown.telegramConnections).toEqual({})
        expect(afterShutdown.frontingConnections).toEqual({})
        expect(afterShutdown.online).toEqual({})
        expect(Object.values(afterShutdown.durations).reduce((a, b) => a + b, 0)).toBe(scripts.length)
      }).pipe(Effect.provide(Prometheus.layer())),
    { fastCheck: { numRuns: 100 } }
  )
})
