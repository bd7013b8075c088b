import { createSocket } from "node:dgram"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, Queue, TestClock } from "effect"
import { PrometheusServer } from "../layers/index.js"
import { Event, EventStream, Prometheus, StatsD } from "../src/index.js"
import { get, parseExposition, seriesOf } from "./support/exposition.js"
import { ev } from "./support/events.js"

const end = "--end--"

/**
 * A real UDP socket on 127.0.0.1 that queues every datagram it receives. After
 * the StatsD client closed (which waits for its sends), `received` sends an
 * end marker from another socket and returns the datagrams before it: the
 * kernel delivers loopback datagrams in order, so nothing is waited for by time.
 */
const receiver = Effect.gen(function*() {
  const datagrams = yield* Queue.unbounded<string>()
  const socket = yield* Effect.acquireRelease(
    Effect.async<ReturnType<typeof createSocket>>((resume) => {
      const socket = createSocket("udp4")
      socket.on("message", (message) => Queue.unsafeOffer(datagrams, message.toString()))
      socket.bind(0, "127.0.0.1", () => resume(Effect.succeed(socket)))
    }),
    (socket) =>
      Effect.async<void>((resume) => {
        socket.close(() => resume(Effect.void))
      })
  )
  const port = socket.address().port
  const received = Effect.gen(function*() {
    yield* Effect.async<void>((resume) => {
      const sender = createSocket("udp4")
      sender.send(end, port, "127.0.0.1", () => sender.close(() => resume(Effect.void)))
    })
    const all: Array<string> = []
    for (let datagram = yield* Queue.take(datagrams); datagram !== end; datagram = yield* Queue.take(datagrams)) {
      all.push(datagram)
    }
    return all
  })
  return { port, received, lines: Effect.map(received, (all) => all.flatMap((datagram) => datagram.split("\n"))) }
})


/**
 * Sends `events` through a stream with the StatsD observer, sets the TestClock
 * to `shutdownAt`, then closes the stream (its shutdown finishes the sessions
 * still open, at that time) and the client.
 */
const sendThrough = (
  options: StatsD.Options,
  events: ReadonlyArray<Event.Event>,
  { shards = 1, shutdownAt = 0 }: { readonly shards?: number; readonly shutdownAt?: number } = {}
) =>
  Effect.flatMap(EventStream.EventStream, (stream) => stream.sendAll(events)).pipe(
    Effect.zipRight(TestClock.setTime(shutdownAt)),
    Effect.provide(EventStream.layer({ shards, observers: [StatsD.observer] })),
    Effect.provide(StatsD.layer(options))
  )

/** One session through Telegram, one fronted and left open, and the session-less events. */
const scenario: ReadonlyArray<Event.Event> = [
  ev.start(0, "s1", "10.0.0.1"),
  ev.dc(250, "s1", "149.154.167.51", 2),
  ev.traffic(300, "s1", 100, false),
  ev.traffic(300, "s1", 300, true),
  ev.start(1_000, "s2", "2001:db8::7"),
  ev.fronting(1_001, "s2"),
  ev.traffic(1_002, "s2", 5, true),
  new Event.EventIPListSize({ streamId: "", timestamp: 0, size: 10, isBlockList: true }),
  new Event.EventIPBlocklisted({ streamId: "", timestamp: 0, remoteIp: "10.9.9.9", isBlockList: true }),
  new Event.EventIPBlocklisted({ streamId: "", timestamp: 0, remoteIp: "10.9.9.8", isBlockList: false }),
  new Event.EventConcurrencyLimited({ streamId: "", timestamp: 0 }),
  new Event.EventReplayAttack({ streamId: "s2", timestamp: 0 }),
  ev.finish(60_000, "s1")
]

/** The scenario's lines, in order: s2 is finished by the shutdown, 120 s after it started. */
const expected: Record<StatsD.TagFormat, ReadonlyArray<string>> = {
  datadog: [
    "mtg.client_connections:+1|g|#ip_family:ipv4",
    "mtg.telegram_connections:+1|g|#telegram_ip:149.154.167.51,dc:2",
    "mtg.time_to_dc:250|ms|#telegram_ip:149.154.167.51,dc:2",
    "mtg.telegram_traffic:100|c|#telegram_ip:149.154.167.51,dc:2,direction:from_client",
    "mtg.telegram_traffic:300|c|#telegram_ip:149.154.167.51,dc:2,direction:to_client",
    "mtg.client_connections:+1|g|#ip_family:ipv6",
    "mtg.domain_fronting:1|c",
    "mtg.domain_fronting_connections:+1|g|#ip_family:ipv6",
    "mtg.domain_fronting_traffic:5|c|#direction:to_client",
    "mtg.iplist_size:10|g|#ip_list:blocklist",
    "mtg.ip_blocklisted:1|c|#ip_list:blocklist",
    "mtg.ip_blocklisted:1|c|#ip_list:allowlist",
    "mtg.concurrency_limited:1|c",
    "mtg.replay_attacks:1|c",
    "mtg.client_connections:-1|g|#ip_family:ipv4",
    "mtg.session_duration:60000|ms|#ip_family:ipv4",
    "mtg.telegram_connections:-1|g|#telegram_ip:149.154.167.51,dc:2",
    "mtg.client_connections:-1|g|#ip_family:ipv6",
    "mtg.domain_fronting_connections:-1|g|#ip_family:ipv6",
    "mtg.session_duration:120000|ms|#ip_family:ipv6"
  ],
  influxdb: [
    "mtg.client_connections,ip_family=ipv4:+1|g",
    "mtg.telegram_connections,telegram_ip=149.154.167.51,dc=2:+1|g",
    "mtg.time_to_dc,telegram_ip=149.154.167.51,dc=2:250|ms",
    "mtg.telegram_traffic,telegram_ip=149.154.167.51,dc=2,direction=from_client:100|c",
    "mtg.telegram_traffic,telegram_ip=149.154.167.51,dc=2,direction=to_client:300|c",
    "mtg.client_connections,ip_family=ipv6:+1|g",
    "mtg.domain_fronting:1|c",
    "mtg.domain_fronting_connections,ip_family=ipv6:+1|g",
    "mtg.domain_fronting_traffic,direction=to_client:5|c",
    "mtg.iplist_size,ip_list=blocklist:10|g",
    "mtg.ip_blocklisted,ip_list=blocklist:1|c",
    "mtg.ip_blocklisted,ip_list=allowlist:1|c",
    "mtg.concurrency_limited:1|c",
    "mtg.replay_attacks:1|c",
    "mtg.client_connections,ip_family=ipv4:-1|g",
    "mtg.session_duration,ip_family=ipv4:60000|ms",
    "mtg.telegram_connections,telegram_ip=149.154.167.51,dc=2:-1|g",
    "mtg.client_connections,ip_family=ipv6:-1|g",
    "mtg.domain_fronting_connections,ip_family=ipv6:-1|g",
    "mtg.session_duration,ip_family=ipv6:120000|ms"
  ],
  graphite: [
    "mtg.client_connections;ip_family=ipv4:+1|g",
    "mtg.telegram_connections;telegram_ip=149.154.167.51;dc=2:+1|g",
    "mtg.time_to_dc;telegram_ip=149.154.167.51;dc=2:250|ms",
    "mtg.telegram_traffic;telegram_ip=149.154.167.51;dc=2;direction=from_client:100|c",
    "mtg.telegram_traffic;telegram_ip=149.154.167.51;dc=2;direction=to_client:300|c",
    "mtg.client_connections;ip_family=ipv6:+1|g",
    "mtg.domain_fronting:1|c",
    "mtg.domain_fronting_connections;ip_family=ipv6:+1|g",
    "mtg.domain_fronting_traffic;direction=to_client:5|c",
    "mtg.iplist_size;ip_list=blocklist:10|g",
    "mtg.ip_blocklisted;ip_list=blocklist:1|c",
    "mtg.ip_blocklisted;ip_list=allowlist:1|c",
    "mtg.concurrency_limited:1|c",
    "mtg.replay_attacks:1|c",
    "mtg.client_connections;ip_family=ipv4:-1|g",
    "mtg.session_duration;ip_family=ipv4:60000|ms",
    "mtg.telegram_connections;telegram_ip=149.154.167.51;dc=2:-1|g",
    "mtg.client_connections;ip_family=ipv6:-1|g",
    "mtg.domain_fronting_connections;ip_family=ipv6:-1|g",
    "mtg.session_duration;ip_family=ipv6:120000|ms"
  ]
}

/** Sums the values of a metric's lines by series (datadog format), deltas and counts alike. */
const sums = (lines: ReadonlyArray<string>, name: string): Record<string, number> => {
  const result: Record<string, number> = {}
  for (const line of lines) {
    const match = /^([^:]+):([+-]?\d+)\|[a-z]+(?:\|#(.*))?$/.exec(line)
    if (match === null) throw new Error(`not a StatsD line: ${line}`)
    if (match[1] !== name) continue
    const series = match[3] ?? ""
    result[series] = (result[series] ?? 0) + Number(match[2])
  }
  return result
}

describe("StatsD", () => {
  for (const tagFormat of ["datadog", "influxdb", "graphite"] as const) {
    it.scoped(`sends mtg's metrics as ${tagFormat} lines, and finishes open sessions at shutdown`, () =>
      Effect.gen(function*() {
        const udp = yield* receiver
        yield* sendThrough({ host: "127.0.0.1", port: udp.port, tagFormat }, scenario, { shutdownAt: 121_000 })
        expect(yield* udp.lines).toEqual(expected[tagFormat])
      }))
  }

  it.scoped("gauge deltas return to zero and counts add up, across shards", () =>
    Effect.gen(function*() {
      const udp = yield* receiver
      const events: Array<Event.Event> = []
      for (let i = 0; i < 300; i++) {
        const id = `s${i}`
        events.push(ev.start(i, id, i % 3 === 0 ? `2001:db8::${i}` : `10.0.${i >> 8}.${i & 255}`))
        if (i % 4 === 0) events.push(ev.fronting(i, id))
        else events.push(ev.dc(i, id, `149.154.167.${i % 5}`, i % 5))
        events.push(ev.traffic(i, id, i, i % 2 === 0))
        if (i % 2 === 0) events.push(ev.finish(i + 1, id))
      }
      yield* sendThrough({ host: "127.0.0.1", port: udp.port }, events, { shards: 4, shutdownAt: 1_000 })
      const lines = yield* udp.lines
      for (const gauge of ["mtg.client_connections", "mtg.telegram_connections", "mtg.domain_fronting_connections"]) {
        const deltas = sums(lines, gauge)
        expect(Object.keys(deltas).length, gauge).toBeGreaterThan(0)
        for (const [series, sum] of Object.entries(deltas)) expect(sum, `${gauge} ${series}`).toBe(0)
      }
      const total = (name: string) => Object.values(sums(lines, name)).reduce((a, b) => a + b, 0)
      const traffic = (fronted: boolean) =>
        Array.from({ length: 300 }, (_, i) => i).filter((i) => (i % 4 === 0) === fronted).reduce((a, b) => a + b, 0)
      expect(total("mtg.telegram_traffic")).toBe(traffic(false))
      expect(total("mtg.domain_fronting_traffic")).toBe(traffic(true))
      expect(total("mtg.domain_fronting")).toBe(75)
      expect(lines.filter((line) => line.startsWith("mtg.session_duration:")).length).toBe(300)
    }))

  it.scoped("writes the prefix as given, and IPv6 Telegram addresses safely in name-placed tags", () =>
    Effect.gen(function*() {
      const udp = yield* receiver
      const events = [ev.start(0, "a", "10.0.0.1"), ev.dc(5, "a", "2001:b28:f23d:f001::a", 2), ev.finish(10, "a")]
      yield* sendThrough({ host: "127.0.0.1", port: udp.port, prefix: "proxy_", tagFormat: "graphite" }, events)
      yield* sendThrough({ host: "127.0.0.1", port: udp.port, prefix: "", tagFormat: "datadog" }, events.slice(0, 2))
      expect(yield* udp.lines).toEqual([
        "proxy_client_connections;ip_family=ipv4:+1|g",
        "proxy_telegram_connections;telegram_ip=2001_b28_f23d_f001__a;dc=2:+1|g",
        "proxy_time_to_dc;telegram_ip=2001_b28_f23d_f001__a;dc=2:5|ms",
        "proxy_client_connections;ip_family=ipv4:-1|g",
        "proxy_session_duration;ip_family=ipv4:10|ms",
        "proxy_telegram_connections;telegram_ip=2001_b28_f23d_f001__a;dc=2:-1|g",
        "client_connections:+1|g|#ip_family:ipv4",
        "telegram_connections:+1|g|#telegram_ip:2001:b28:f23d:f001::a,dc:2",
        "time_to_dc:5|ms|#telegram_ip:2001:b28:f23d:f001::a,dc:2",
        "client_connections:-1|g|#ip_family:ipv4",
        "session_duration:0|ms|#ip_family:ipv4",
        "telegram_connections:-1|g|#telegram_ip:2001:b28:f23d:f001::a,dc:2"
      ])
    }))

  it.scoped("packs lines into datagrams of at most maxPacketSize bytes; 0 sends each alone", () =>
    Effect.gen(function*() {
      const udp = yield* receiver
      yield* sendThrough({ host: "127.0.0.1", port: udp.port, maxPacketSize: 0 }, scenario)
      const alone = yield* udp.received
      expect(alone.length).toBe(expected.datadog.length)
      yield* sendThrough({ host: "127.0.0.1", port: udp.port, maxPacketSize: 200, flushInterval: "1 hour" }, scenario)
      const packed = yield* udp.received
      expect(packed.length).toBeLessThan(expected.datadog.length)
      for (const datagram of packed) expect(Buffer.byteLength(datagram)).toBeLessThanOrEqual(200)
      expect(packed.flatMap((datagram) => datagram.split("\n")).length).toBe(expected.datadog.length)
    }))

  it.scoped("failed sends are logged once, counted at close, and crash nothing", () => {
    const warnings: Array<ReadonlyArray<string>> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") warnings.push((Array.isArray(message) ? message : [message]).map(String))
    })
    return Effect.gen(function*() {
      const udp = yield* receiver
      // A line longer than a UDP datagram can carry: every send fails with EMSGSIZE.
      const prefix = "x".repeat(70_000)
      yield* sendThrough({ host: "127.0.0.1", port: udp.port, prefix, maxPacketSize: 0 }, scenario)
      expect(warnings).toEqual([
        ["mtg-events: StatsD send failed; later failures are counted", expect.stringContaining("EMSGSIZE")],
        [`mtg-events: ${expected.datadog.length} StatsD sends failed`]
      ])
      expect(yield* udp.received).toEqual([])
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
  })

  it.effect("invalid options are defects that say what is wrong", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [StatsD.Options, string]> = [
        [{ host: "127.0.0.1", port: 0 }, "port"],
        [{ host: "127.0.0.1", port: 70_000 }, "port"],
        [{ host: "", port: 8125 }, "host"],
        [{ host: "127.0.0.1", port: 8125, tagFormat: "statsd" as StatsD.TagFormat }, "tagFormat"],
        [{ host: "127.0.0.1", port: 8125, maxPacketSize: -1 }, "maxPacketSize"],
        [{ host: "127.0.0.1", port: 8125, flushInterval: "0 millis" }, "flushInterval"]
      ]
      for (const [options, says] of cases) {
        const exit = yield* Effect.exit(Layer.build(StatsD.layer(options)).pipe(Effect.scoped))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause), says).toBe(true)
        if (Exit.isFailure(exit)) {
          const defect = Cause.squash(exit.cause)
          expect(defect).toBeInstanceOf(Cause.IllegalArgumentException)
          expect((defect as Error).message).toContain(says)
        }
      }
    }))
})

describe("Prometheus and StatsD together", () => {
  it.scoped("compose in one stream: the same sessions are scraped over HTTP and sent over UDP", () =>
    Effect.gen(function*() {
      const udp = yield* receiver
      const metrics = PrometheusServer.layer({ port: 0 }).pipe(
        Layer.provideMerge(Prometheus.layer()),
        Layer.merge(StatsD.layer({ host: "127.0.0.1", port: udp.port }))
      )
      yield* Effect.gen(function*() {
        yield* Effect.flatMap(EventStream.EventStream, (stream) =>
          stream.sendAll([
            ev.start(0, "c1", "10.0.0.1"),
            ev.dc(20, "c1", "149.154.167.51", 2),
            ev.traffic(30, "c1", 1234, true),
            ev.start(0, "c2", "10.0.0.2")
          ])).pipe(
            Effect.provide(
              EventStream.layer({
                shards: 2,
                observers: [Prometheus.observer, StatsD.observer]
              })
            )
          )
        const { port } = yield* PrometheusServer.PrometheusServer
        const scraped = parseExposition((yield* get(port)).body)
        expect(seriesOf(scraped, "mtg_client_connections")).toEqual({ "ip_family=ipv4": 0 })
        expect(seriesOf(scraped, "mtg_telegram_traffic")).toEqual({
          "dc=2,direction=to_client,telegram_ip=149.154.167.51": 1234
        })
        expect(seriesOf(scraped, "mtg_session_duration_seconds_count")).toEqual({ "ip_family=ipv4": 2 })
      }).pipe(Effect.provide(metrics))
      const lines = yield* udp.lines
      expect(lines.filter((line) => line.includes("149.154.167.51"))).toEqual([
        "mtg.telegram_connections:+1|g|#telegram_ip:149.154.167.51,dc:2",
        "mtg.time_to_dc:20|ms|#telegram_ip:149.154.167.51,dc:2",
        "mtg.telegram_traffic:1234|c|#telegram_ip:149.154.167.51,dc:2,direction:to_client",
        "mtg.telegram_connections:-1|g|#telegram_ip:149.154.167.51,dc:2"
      ])
      expect(lines.filter((line) => line.startsWith("mtg.client_connections")).sort()).toEqual([
        "mtg.client_connections:+1|g|#ip_family:ipv4",
        "mtg.client_connections:+1|g|#ip_family:ipv4",
        "mtg.client_connections:-1|g|#ip_family:ipv4",
        "mtg.client_connections:-1|g|#ip_family:ipv4"
      ])
    }))
})
