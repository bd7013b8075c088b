import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Context, Effect, Exit, Layer, Scope, TestClock } from "effect"
import { PrometheusServer } from "../layers/index.js"
import { Event, EventStream, Prometheus } from "../src/index.js"
import { type Exposition, get, makeBarrier, parseExposition, seriesOf } from "./support/exposition.js"
import { ev } from "./support/events.js"


/** The metrics and their server on a free port of 127.0.0.1. */
const served = (options: Prometheus.Options = {}) =>
  PrometheusServer.layer({ port: 0 }).pipe(Layer.provideMerge(Prometheus.layer(options)))

/** Fetches and parses the served metrics. */
const scrape = Effect.gen(function*() {
  const { port } = yield* PrometheusServer.PrometheusServer
  const response = yield* get(port)
  expect(response.status).toBe(200)
  return parseExposition(response.body)
})

/**
 * Runs `script` against a real stream (Prometheus observer, then a barrier)
 * with `shards` shards; `send` returns once the events were handled.
 */
const withStream = <A, E, R>(
  shards: number,
  script: (send: (events: ReadonlyArray<Event.Event>) => Effect.Effect<void>) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const barrier = yield* makeBarrier
    let sent = 0
    return yield* Effect.gen(function*() {
      const stream = yield* EventStream.EventStream
      return yield* script((events) =>
        Effect.suspend(() => {
          sent += events.length
          return Effect.zipRight(stream.sendAll(events), barrier.delivered(sent))
        })
      )
    }).pipe(Effect.provide(EventStream.layer({ shards, observers: [Prometheus.observer, barrier.observer] })))
  })

const mtgMetrics = {
  mtg_client_connections: ["gauge", "A number of actively processing client connections."],
  mtg_telegram_connections: ["gauge", "A number of connections to Telegram servers."],
  mtg_domain_fronting_connections: ["gauge", "A number of connections which talk to front domain."],
  mtg_iplist_size: ["gauge", "A size of the ip list (blocklist or allowlist)"],
  mtg_telegram_traffic: ["counter", "Traffic which is generated talking with Telegram servers."],
  mtg_domain_fronting_traffic: ["counter", "Traffic which is generated talking with front domain."],
  mtg_domain_fronting: ["counter", "A number of routings to front domain."],
  mtg_concurrency_limited: ["counter", "A number of sessions that were rejected by concurrency limiter."],
  mtg_ip_blocklisted: ["counter", "A number of rejected sessions due to ip blocklisting."],
  mtg_replay_attacks: ["counter", "A number of detected replay attacks."]
} as const

const sessionSeries = (scraped: Exposition) => ({
  clientConnections: seriesOf(scraped, "mtg_client_connections"),
  telegramConnections: seriesOf(scraped, "mtg_telegram_connections"),
  frontingConnections: seriesOf(scraped, "mtg_domain_fronting_connections"),
  telegramTraffic: seriesOf(scraped, "mtg_telegram_traffic"),
  frontingTraffic: seriesOf(scraped, "mtg_domain_fronting_traffic"),
  domainFronting: seriesOf(scraped, "mtg_domain_fronting"),
  online: seriesOf(scraped, "mtg_online_clients")
})

describe("Prometheus", () => {
  it.live("serves mtg's ten metrics with their types and help texts, and only the layer's metrics", () =>
    Effect.gen(function*() {
      const scraped = yield* scrape
      for (const [name, [type, help]] of Object.entries(mtgMetrics)) {
        expect(scraped.type.get(name), name).toBe(type)
        expect(scraped.help.get(name), name).toBe(help)
      }
      expect([...scraped.type.keys()].sort()).toEqual([
        ...Object.keys(mtgMetrics),
        "mtg_online_clients",
        "mtg_session_duration_seconds",
        "mtg_time_to_dc_seconds",
        "mtg_unique_clients"
      ].sort())
      expect(scraped.type.get("mtg_session_duration_seconds")).toBe("histogram")
      expect(seriesOf(scraped, "mtg_online_clients")).toEqual({ "": 0 })
      expect(seriesOf(scraped, "mtg_unique_clients")).toEqual({ "window=1h": 0, "window=1d": 0 })
    }).pipe(Effect.provide(served())))

  it.live("Telegram path: connections, traffic by direction, time to DC, then gauges back to 0 and durations", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(2, (send) =>
        Effect.gen(function*() {
          yield* send([
            ev.start(t0, "s1", "10.0.0.1"),
            ev.start(t0 + 10, "s2", "2001:db8::7"),
            ev.dc(t0 + 250, "s1", "149.154.167.51", 2),
            ev.dc(t0 + 20, "s2", "149.154.175.50", -1),
            ev.traffic(t0 + 300, "s1", 100, false),
            ev.traffic(t0 + 300, "s1", 300, true),
            ev.traffic(t0 + 300, "s1", 50, true),
            ev.traffic(t0 + 300, "s2", 40, true)
          ])
          const open = yield* scrape
          expect(sessionSeries(open)).toEqual({
            clientConnections: { "ip_family=ipv4": 1, "ip_family=ipv6": 1 },
            telegramConnections: { "dc=2,telegram_ip=149.154.167.51": 1, "dc=-1,telegram_ip=149.154.175.50": 1 },
            frontingConnections: {},
            telegramTraffic: {
              "dc=2,direction=from_client,telegram_ip=149.154.167.51": 100,
              "dc=2,direction=to_client,telegram_ip=149.154.167.51": 350,
              "dc=-1,direction=to_client,telegram_ip=149.154.175.50": 40
            },
            frontingTraffic: {},
            domainFronting: { "": 0 },
            online: { "": 2 }
          })
          expect(seriesOf(open, "mtg_time_to_dc_seconds_sum")).toEqual({
            "dc=2,telegram_ip=149.154.167.51": 0.25,
            "dc=-1,telegram_ip=149.154.175.50": 0.01
          })
          const buckets = seriesOf(open, "mtg_time_to_dc_seconds_bucket")
          expect(buckets["dc=2,le=0.1,telegram_ip=149.154.167.51"]).toBe(0)
          expect(buckets["dc=2,le=0.25,telegram_ip=149.154.167.51"]).toBe(1)
          expect(buckets["dc=-1,le=0.01,telegram_ip=149.154.175.50"]).toBe(1)
          expect(buckets["dc=-1,le=0.005,telegram_ip=149.154.175.50"]).toBe(0)
          expect(seriesOf(open, "mtg_unique_clients")).toEqual({ "window=1h": 2, "window=1d": 2 })

          yield* send([ev.finish(t0 + 60_000, "s1"), ev.finish(t0 + 1_510, "s2")])
          const closed = yield* scrape
          expect(sessionSeries(closed)).toMatchObject({
            clientConnections: { "ip_family=ipv4": 0, "ip_family=ipv6": 0 },
            telegramConnections: { "dc=2,telegram_ip=149.154.167.51": 0, "dc=-1,telegram_ip=149.154.175.50": 0 },
            telegramTraffic: sessionSeries(open).telegramTraffic,
            online: { "": 0 }
          })
          expect(seriesOf(closed, "mtg_session_duration_seconds_sum")).toEqual({
            "ip_family=ipv4": 60,
            "ip_family=ipv6": 1.5
          })
          const durations = seriesOf(closed, "mtg_session_duration_seconds_bucket")
          expect(durations["ip_family=ipv4,le=15"]).toBe(0)
          expect(durations["ip_family=ipv4,le=60"]).toBe(1)
          expect(durations["ip_family=ipv6,le=1"]).toBe(0)
          expect(durations["ip_family=ipv6,le=5"]).toBe(1)
          expect(seriesOf(closed, "mtg_unique_clients")).toEqual({ "window=1h": 2, "window=1d": 2 })
        })
      )
    }).pipe(Effect.provide(served())))

  it.live("domain fronting path: counted once per session as a connection, traffic by direction, IPv4-mapped is ipv4", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(3, (send) =>
        Effect.gen(function*() {
          yield* send([
            ev.start(t0, "f1", "::ffff:10.0.0.3"),
            ev.fronting(t0 + 1, "f1"),
            ev.traffic(t0 + 2, "f1", 70, false),
            ev.traffic(t0 + 2, "f1", 20, true),
            ev.fronting(t0 + 3, "f1"),
            ev.start(t0, "f2", "2001:db8::9"),
            ev.fronting(t0 + 1, "f2"),
            ev.traffic(t0 + 2, "f2", 5, true)
          ])
          expect(sessionSeries(yield* scrape)).toEqual({
            clientConnections: { "ip_family=ipv4": 1, "ip_family=ipv6": 1 },
            telegramConnections: {},
            frontingConnections: { "ip_family=ipv4": 1, "ip_family=ipv6": 1 },
            telegramTraffic: {},
            frontingTraffic: { "direction=from_client": 70, "direction=to_client": 25 },
            domainFronting: { "": 3 },
            online: { "": 2 }
          })
          yield* send([ev.finish(t0 + 5, "f1"), ev.finish(t0 + 5, "f2")])
          expect(sessionSeries(yield* scrape)).toMatchObject({
            clientConnections: { "ip_family=ipv4": 0, "ip_family=ipv6": 0 },
            frontingConnections: { "ip_family=ipv4": 0, "ip_family=ipv6": 0 },
            online: { "": 0 }
          })
        })
      )
    }).pipe(Effect.provide(served())))

  it.live("ip lists, concurrency limits and replay attacks", () =>
    Effect.gen(function*() {
      yield* withStream(2, (send) =>
        Effect.gen(function*() {
          yield* send([
            yield* Event.ipListSize(10, true),
            yield* Event.ipListSize(3, false),
            yield* Event.ipBlocklisted("10.1.1.1"),
            yield* Event.ipBlocklisted("10.1.1.2"),
            yield* Event.ipAllowlisted("10.1.1.3"),
            yield* Event.concurrencyLimited(),
            yield* Event.concurrencyLimited(),
            yield* Event.concurrencyLimited(),
            yield* Event.replayAttack("r1"),
            yield* Event.replayAttack("r2")
          ])
          yield* send([yield* Event.ipListSize(12, true)])
          const scraped = yield* scrape
          expect(seriesOf(scraped, "mtg_iplist_size")).toEqual({ "ip_list=blocklist": 12, "ip_list=allowlist": 3 })
          expect(seriesOf(scraped, "mtg_ip_blocklisted")).toEqual({ "ip_list=blocklist": 2, "ip_list=allowlist": 1 })
          expect(seriesOf(scraped, "mtg_concurrency_limited")).toEqual({ "": 3 })
          expect(seriesOf(scraped, "mtg_replay_attacks")).toEqual({ "": 2 })
        })
      )
    }).pipe(Effect.provide(served())))

  it.live("events of unknown sessions are ignored", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(2, (send) =>
        Effect.gen(function*() {
          yield* send([
            ev.dc(t0, "ghost", "149.154.167.51", 2),
            ev.fronting(t0, "ghost"),
            ev.traffic(t0, "ghost", 100, true),
            ev.finish(t0, "ghost"),
            ev.start(t0, "real", "10.0.0.1"),
            ev.finish(t0 + 1, "real"),
            ev.finish(t0 + 2, "real"),
            ev.traffic(t0 + 3, "real", 1, true)
          ])
          const scraped = yield* scrape
          expect(sessionSeries(scraped)).toEqual({
            clientConnections: { "ip_family=ipv4": 0 },
            telegramConnections: {},
            frontingConnections: {},
            telegramTraffic: {},
            frontingTraffic: {},
            domainFronting: { "": 0 },
            online: { "": 0 }
          })
          expect(seriesOf(scraped, "mtg_session_duration_seconds_count")).toEqual({ "ip_family=ipv4": 1 })
        })
      )
    }).pipe(Effect.provide(served())))

  it.live("gauges stay equal to open sessions where mtg's would drift: repeated start, second DC, DC after fronting", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(1, (send) =>
        Effect.gen(function*() {
          yield* send([
            ev.start(t0, "a", "10.0.0.1"),
            ev.start(t0 + 1, "a", "10.0.0.2"),
            ev.dc(t0 + 2, "a", "149.154.167.51", 2),
            ev.dc(t0 + 3, "a", "149.154.167.91", 4),
            ev.traffic(t0 + 4, "a", 9, true),
            ev.start(t0, "b", "10.0.0.3"),
            ev.fronting(t0 + 1, "b"),
            ev.dc(t0 + 2, "b", "149.154.167.51", 2)
          ])
          expect(sessionSeries(yield* scrape)).toMatchObject({
            clientConnections: { "ip_family=ipv4": 2 },
            telegramConnections: { "dc=2,telegram_ip=149.154.167.51": 1, "dc=4,telegram_ip=149.154.167.91": 1 },
            frontingConnections: { "ip_family=ipv4": 1 },
            telegramTraffic: { "dc=4,direction=to_client,telegram_ip=149.154.167.91": 9 },
            online: { "": 2 }
          })
          yield* send([ev.finish(t0 + 5, "a"), ev.finish(t0 + 5, "b")])
          expect(sessionSeries(yield* scrape)).toMatchObject({
            clientConnections: { "ip_family=ipv4": 0 },
            telegramConnections: { "dc=2,telegram_ip=149.154.167.51": 0, "dc=4,telegram_ip=149.154.167.91": 0 },
            frontingConnections: { "ip_family=ipv4": 0 },
            online: { "": 0 }
          })
        })
      )
    }).pipe(Effect.provide(served())))

  it.live("telegram_ip values past the limit fold into `other` (first come, first labelled)", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(1, (send) =>
        send(["149.154.167.51", "149.154.167.91", "149.154.175.100", "149.154.175.50", "149.154.167.51"].flatMap((
          ip,
          i
        ) => [ev.start(t0, `s${i}`, "10.0.0.1"), ev.dc(t0 + 1, `s${i}`, ip, 2), ev.traffic(t0 + 2, `s${i}`, 10, true)]))
      )
      const scraped = yield* scrape
      expect(seriesOf(scraped, "mtg_telegram_connections")).toEqual({
        "dc=2,telegram_ip=149.154.167.51": 0,
        "dc=2,telegram_ip=149.154.167.91": 0,
        "dc=2,telegram_ip=other": 0
      })
      expect(seriesOf(scraped, "mtg_telegram_traffic")).toEqual({
        "dc=2,direction=to_client,telegram_ip=149.154.167.51": 20,
        "dc=2,direction=to_client,telegram_ip=149.154.167.91": 10,
        "dc=2,direction=to_client,telegram_ip=other": 20
      })
      expect(seriesOf(scraped, "mtg_time_to_dc_seconds_count")).toEqual({
        "dc=2,telegram_ip=149.154.167.51": 2,
        "dc=2,telegram_ip=149.154.167.91": 1,
        "dc=2,telegram_ip=other": 2
      })
    }).pipe(Effect.provide(served({ telegramIpLimit: 2 }))))

  it.live("shutdown finishes the sessions still open, so the gauges return to 0", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(2, (send) =>
        send([
          ev.start(t0, "o1", "10.0.0.1"),
          ev.dc(t0, "o1", "149.154.167.51", 2),
          ev.start(t0, "o2", "10.0.0.2"),
          ev.fronting(t0, "o2")
        ]))
      expect(sessionSeries(yield* scrape)).toMatchObject({
        clientConnections: { "ip_family=ipv4": 0 },
        telegramConnections: { "dc=2,telegram_ip=149.154.167.51": 0 },
        frontingConnections: { "ip_family=ipv4": 0 },
        online: { "": 0 }
      })
      expect(seriesOf(yield* scrape, "mtg_session_duration_seconds_count")).toEqual({ "ip_family=ipv4": 2 })
    }).pipe(Effect.provide(served())))

  it.live("prefix and bucket options", () =>
    Effect.gen(function*() {
      const t0 = yield* Clock.currentTimeMillis
      yield* withStream(1, (send) => send([ev.start(t0, "p", "10.0.0.1"), ev.finish(t0 + 2_000, "p")]))
      const scraped = yield* scrape
      expect(scraped.type.get("proxy_client_connections")).toBe("gauge")
      expect(scraped.type.has("mtg_client_connections")).toBe(false)
      expect(seriesOf(scraped, "proxy_session_duration_seconds_bucket")).toEqual({
        "ip_family=ipv4,le=1": 0,
        "ip_family=ipv4,le=10": 1,
        "ip_family=ipv4,le=+Inf": 1
      })
      expect(seriesOf(scraped, "proxy_unique_clients")).toEqual({ "window=1h30m": 1 })
    }).pipe(Effect.provide(served({ prefix: "proxy", buckets: { sessionDuration: [1, 10] }, windows: ["90 minutes"] }))))

  it.effect("invalid options are defects that say what is wrong", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Prometheus.Options, string]> = [
        [{ prefix: "1mtg" }, "prefix"],
        [{ prefix: "mtg-proxy" }, "prefix"],
        [{ telegramIpLimit: -1 }, "telegramIpLimit"],
        [{ buckets: { sessionDuration: [5, 1] } }, "sessionDuration buckets"],
        [{ buckets: { timeToDC: [] } }, "timeToDC buckets"],
        [{ windows: ["0 millis"] }, "window"],
        [{ windows: ["60 minutes", "1 hour"] }, "windows must differ"]
      ]
      for (const [options, says] of cases) {
        const exit = yield* Effect.exit(Layer.build(Prometheus.layer(options)).pipe(Effect.scoped))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        if (Exit.isFailure(exit)) {
          const defect = Cause.squash(exit.cause)
          expect(defect).toBeInstanceOf(Cause.IllegalArgumentException)
          expect((defect as Error).message).toContain(says)
        }
      }
    }))

  it.effect("online clients and distinct clients over windows, on the Clock", () =>
    Effect.gen(function*() {
      const { registry } = yield* Prometheus.Metrics
      const read = Effect.promise(() => registry.metrics()).pipe(Effect.map(parseExposition))
      yield* withStream(2, (send) =>
        Effect.gen(function*() {
          yield* send([
            yield* Event.start("a1", "10.0.0.1"),
            yield* Event.start("a2", "10.0.0.1"),
            yield* Event.start("b1", "10.0.0.2"),
            yield* Event.start("c1", "2001:db8::3")
          ])
          expect(seriesOf(yield* read, "mtg_online_clients")).toEqual({ "": 3 })
          yield* send([yield* Event.finish("a1"), yield* Event.finish("c1")])
          expect(seriesOf(yield* read, "mtg_online_clients")).toEqual({ "": 2 })
          expect(seriesOf(yield* read, "mtg_unique_clients")).toEqual({ "window=1h": 3, "window=1d": 3 })
          yield* TestClock.adjust("90 minutes")
          yield* send([yield* Event.start("d1", "10.0.0.4")])
          expect(seriesOf(yield* read, "mtg_unique_clients")).toEqual({ "window=1h": 1, "window=1d": 4 })
          yield* TestClock.adjust("23 hours")
          expect(seriesOf(yield* read, "mtg_unique_clients")).toEqual({ "window=1h": 0, "window=1d": 1 })
          yield* TestClock.adjust("1 hour")
          expect(seriesOf(yield* read, "mtg_unique_clients")).toEqual({ "window=1h": 0, "window=1d": 0 })
          expect(seriesOf(yield* read, "mtg_online_clients")).toEqual({ "": 3 })
        })
      )
    }).pipe(Effect.provide(Prometheus.layer())))

  it.effect("distinct clients are estimated within 5% for 20,000 addresses, online exactly", () =>
    Effect.gen(function*() {
      const { registry } = yield* Prometheus.Metrics
      yield* withStream(2, (send) =>
        Effect.gen(function*() {
          const starts: Array<Event.Event> = []
          for (let i = 0; i < 20_000; i++) {
            starts.push(yield* Event.start(`s${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`))
          }
          yield* send(starts)
          const scraped = parseExposition(yield* Effect.promise(() => registry.metrics()))
          expect(seriesOf(scraped, "mtg_online_clients")).toEqual({ "": 20_000 })
          const unique = seriesOf(scraped, "mtg_unique_clients")["window=1h"]!
          expect(Math.abs(unique - 20_000) / 20_000).toBeLessThan(0.05)
        })
      )
    }).pipe(Effect.provide(Prometheus.layer())))
})

describe("PrometheusServer", () => {
  it.live("negotiates OpenMetrics by the Accept header", () =>
    Effect.gen(function*() {
      yield* withStream(1, (send) => Effect.flatMap(Event.replayAttack("x"), (e) => send([e])))
      const { port } = yield* PrometheusServer.PrometheusServer
      const prometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
      const open = yield* get(port, "/", { accept: prometheusAccept })
      expect(open.contentType).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8")
      expect(open.body).toContain("# TYPE mtg_replay_attacks counter\nmtg_replay_attacks_total 1\n")
      expect(open.body.endsWith("# EOF\n")).toBe(true)
      for (const accept of ["*/*", "text/plain", "application/openmetrics-text;q=0.2,text/plain;q=0.9"]) {
        const text = yield* get(port, "/", { accept })
        expect(text.contentType, accept).toBe("text/plain; version=0.0.4; charset=utf-8")
        expect(text.body).toContain("# TYPE mtg_replay_attacks counter\nmtg_replay_attacks 1\n")
        expect(text.body).not.toContain("# EOF")
      }
    }).pipe(Effect.provide(served())))

  it.live("serves only its path, only GET and HEAD", () =>
    Effect.gen(function*() {
      const { port } = yield* PrometheusServer.PrometheusServer
      expect((yield* get(port, "/metrics?x=1")).status).toBe(200)
      expect((yield* get(port, "/")).status).toBe(404)
      expect((yield* get(port, "/metrics/more")).status).toBe(404)
      const post = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`, { method: "POST" }))
      expect(post.status).toBe(405)
      const head = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`, { method: "HEAD" }))
      expect(head.status).toBe(200)
    }).pipe(
      Effect.provide(PrometheusServer.layer({ port: 0, path: "/metrics" }).pipe(Layer.provide(Prometheus.layer())))
    ))

  it.live("listens while its scope is open, and reports the bound address", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(served(), scope)
      const { host, port } = Context.get(context, PrometheusServer.PrometheusServer)
      expect(host).toBe("127.0.0.1")
      expect(port).toBeGreaterThan(0)
      expect((yield* get(port)).status).toBe(200)
      yield* Scope.close(scope, Exit.void)
      const after = yield* Effect.either(Effect.tryPromise(() => fetch(`http://127.0.0.1:${port}/`)))
      expect(after._tag).toBe("Left")
    }))

  it.live("fails with ServeError when the port is taken", () =>
    Effect.gen(function*() {
      const { port } = yield* PrometheusServer.PrometheusServer
      const error = yield* Layer.build(PrometheusServer.layer({ port })).pipe(Effect.scoped, Effect.flip)
      expect(error).toBeInstanceOf(PrometheusServer.ServeError)
      expect(error.code).toBe("EADDRINUSE")
      expect(error.port).toBe(port)
      expect(error.message).toContain(`127.0.0.1:${port}`)
    }).pipe(Effect.provide(served())))
})
