/**
 * mtg's Prometheus metrics (its `stats` package) as an observer of the event
 * stream, plus the session metrics mtg users asked for: session duration,
 * time to connect to a datacenter, and distinct clients online and over time
 * windows.
 *
 * The metrics live in their own prom-client `Registry` (no global registry,
 * no default process metrics), provided by `layer`; `observer` is the factory
 * to give `EventStream.layer`. Serve the registry with `PrometheusServer`.
 *
 * @since 0.1.0
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ClientCounts } from "./internal/clientCounts.js"
import { type IpFamily, makeSessions } from "./internal/sessions.js"
import { type Tally, TallyCounter } from "./internal/tallyCounter.js"
import * as Observer from "./Observer.js"

/** Options of `layer`. */
export interface Options {
  /** Prefix of every metric name, joined with `_` (mtg's namespace); default `mtg`, `""` for none. */
  readonly prefix?: string | undefined
  /**
   * Most distinct `telegram_ip` label values: the first addresses seen keep
   * theirs, later ones are labelled `other`, so a misbehaving upstream cannot
   * explode the series. Default 100.
   */
  readonly telegramIpLimit?: number | undefined
  /** Histogram buckets, in seconds, increasing. */
  readonly buckets?: {
    readonly sessionDuration?: ReadonlyArray<number> | undefined
    readonly timeToDC?: ReadonlyArray<number> | undefined
  } | undefined
  /**
   * Windows of the `unique_clients` gauge, labelled in Prometheus's duration
   * syntax (`1h`, `1d`); default 1 hour and 24 hours. Each is kept as 24
   * slices: a client counts until between 23/24 and 24/24 of the window later.
   */
  readonly windows?: ReadonlyArray<Duration.DurationInput> | undefined
}

/** Default `session_duration_seconds` buckets: from failed handshakes to day-long sessions. */
export const defaultSessionDurationBuckets: ReadonlyArray<number> = [
  0.1, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400
]

/** Default `time_to_dc_seconds` buckets: Prometheus's defaults, 5 ms to 10 s. */
export const defaultTimeToDCBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Default windows of `unique_clients`. */
export const defaultWindows: ReadonlyArray<Duration.DurationInput> = ["1 hour", "24 hours"]

/** Default most distinct `telegram_ip` label values. */
export const defaultTelegramIpLimit = 100

/** The label value that `telegram_ip` values past the limit fold into. */
export const otherTelegramIp = "other"

/** The metrics: the registry and each metric in it, named as mtg names them (without the prefix). */
export interface Service {
  /** The layer's own registry, holding every metric below. */
  readonly registry: Registry
  /** Names a metric with the layer's prefix: `name("client_connections")` is `mtg_client_connections` by default. */
  readonly name: (metric: string) => string
  readonly clientConnections: Gauge<"ip_family">
  readonly telegramConnections: Gauge<"telegram_ip" | "dc">
  readonly domainFrontingConnections: Gauge<"ip_family">
  readonly ipListSize: Gauge<"ip_list">
  readonly telegramTraffic: Counter<"telegram_ip" | "dc" | "direction">
  readonly domainFrontingTraffic: Counter<"direction">
  readonly domainFronting: Counter
  readonly concurrencyLimited: Counter
  readonly ipBlocklisted: Counter<"ip_list">
  readonly replayAttacks: Counter
  /** Beyond mtg: seconds from start to finish of each session. */
  readonly sessionDuration: Histogram<"ip_family">
  /** Beyond mtg: seconds from a session's start to its connection to a Telegram datacenter. */
  readonly timeToDC: Histogram<"telegram_ip" | "dc">
  /** Beyond mtg: distinct client IPs with an open session. */
  readonly onlineClients: Gauge
  /** Beyond mtg: estimated distinct client IPs that started a session within each window. */
  readonly uniqueClients: Gauge<"window">
  /** @internal */
  readonly shared: Shared
}

/** State the observers of all shards share. @internal */
export interface Shared {
  readonly telegramTraffic: TallyCounter<"telegram_ip" | "dc" | "direction">
  readonly domainFrontingTraffic: TallyCounter<"direction">
  readonly clients: ClientCounts
  /** The `telegram_ip` label of an address, under the cardinality cap. */
  readonly telegramLabel: (ip: string) => string
}

/** The metrics service. */
export class Metrics extends Context.Tag("mtg-events/Prometheus/Metrics")<Metrics, Service>() {}

const invalid = (message: string): Effect.Effect<never> =>
  Effect.die(new Cause.IllegalArgumentException(`Prometheus: ${message}`))

const validBuckets = (name: string, buckets: ReadonlyArray<number>): Effect.Effect<Array<number>> =>
  buckets.length > 0 && buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > buckets[i - 1]!))
    ? Effect.succeed([...buckets])
    : invalid(`${name} buckets must be finite and increasing, got [${buckets.join(", ")}]`)

const validWindow = (input: Duration.DurationInput): Effect.Effect<Duration.Duration> => {
  const window = Duration.decodeUnknown(input)
  return window._tag === "Some" && Duration.isFinite(window.value) && Duration.toMillis(window.value) >= 1
    ? Effect.succeed(window.value)
    : invalid(`a window must be a finite duration of at least 1 millisecond, got ${String(input)}`)
}

/** A window's label value, in Prometheus's duration syntax: `1h`, `1d`, `1h30m`. */
const windowLabel = (window: Duration.Duration): string => Duration.format(window).replaceAll(" ", "")

/** Builds the metrics; see `layer`. */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const prefix = options.prefix ?? "mtg"
    if (prefix !== "" && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
      yield* invalid(`prefix must be a valid metric name prefix, got ${JSON.stringify(prefix)}`)
    }
    const limit = options.telegramIpLimit ?? defaultTelegramIpLimit
    if (!Number.isSafeInteger(limit) || limit < 0) {
      yield* invalid(`telegramIpLimit must be a non-negative integer, got ${limit}`)
    }
    const sessionBuckets = yield* validBuckets(
      "sessionDuration",
      options.buckets?.sessionDuration ?? defaultSessionDurationBuckets
    )
    const timeToDCBuckets = yield* validBuckets("timeToDC", options.buckets?.timeToDC ?? defaultTimeToDCBuckets)
    const windows = yield* Effect.forEach(options.windows ?? defaultWindows, validWindow)
    const windowLabels = windows.map(windowLabel)
    if (new Set(windowLabels).size < windowLabels.length) {
      yield* invalid(`windows must differ, got ${windowLabels.join(", ")}`)
    }
    const clock = yield* Effect.clock

    const registry = new Registry()
    const registers = [registry]
    const name = (metric: string): string => prefix === "" ? metric : `${prefix}_${metric}`
    const clients = new ClientCounts(windows.map(Duration.toMillis))

    const telegramTraffic = new TallyCounter({
      name: name("telegram_traffic"),
      help: "Traffic which is generated talking with Telegram servers.",
      labelNames: ["telegram_ip", "dc", "direction"],
      registers
    })
    const domainFrontingTraffic = new TallyCounter({
      name: name("domain_fronting_traffic"),
      help: "Traffic which is generated talking with front domain.",
      labelNames: ["direction"],
      registers
    })
    const admitted = new Set<string>()
    const telegramLabel = (ip: string): string => {
      if (admitted.has(ip)) return ip
      if (admitted.size >= limit) return otherTelegramIp
      admitted.add(ip)
      return ip
    }

    return {
      registry,
      name,
      clientConnections: new Gauge({
        name: name("client_connections"),
        help: "A number of actively processing client connections.",
        labelNames: ["ip_family"],
        registers
      }),
      telegramConnections: new Gauge({
        name: name("telegram_connections"),
        help: "A number of connections to Telegram servers.",
        labelNames: ["telegram_ip", "dc"],
        registers
      }),
      domainFrontingConnections: new Gauge({
        name: name("domain_fronting_connections"),
        help: "A number of connections which talk to front domain.",
        labelNames: ["ip_family"],
        registers
      }),
      ipListSize: new Gauge({
        name: name("iplist_size"),
        help: "A size of the ip list (blocklist or allowlist)",
        labelNames: ["ip_list"],
        registers
      }),
      telegramTraffic: telegramTraffic.counter,
      domainFrontingTraffic: domainFrontingTraffic.counter,
      ipBlocklisted: new Counter({
        name: name("ip_blocklisted"),
        help: "A number of rejected sessions due to ip blocklisting.",
        labelNames: ["ip_list"],
        registers
      }),
      domainFronting: new Counter({
        name: name("domain_fronting"),
        help: "A number of routings to front domain.",
        registers
      }),
      concurrencyLimited: new Counter({
        name: name("concurrency_limited"),
        help: "A number of sessions that were rejected by concurrency limiter.",
        registers
      }),
      replayAttacks: new Counter({
        name: name("replay_attacks"),
        help: "A number of detected replay attacks.",
        registers
      }),
      sessionDuration: new Histogram({
        name: name("session_duration_seconds"),
        help: "Duration of client sessions, from start to finish, in seconds.",
        labelNames: ["ip_family"],
        buckets: sessionBuckets,
        registers
      }),
      timeToDC: new Histogram({
        name: name("time_to_dc_seconds"),
        help: "Time from the start of a session to its connection to a Telegram datacenter, in seconds.",
        labelNames: ["telegram_ip", "dc"],
        buckets: timeToDCBuckets,
        registers
      }),
      onlineClients: new Gauge({
        name: name("online_clients"),
        help: "A number of distinct client IPs with an open session.",
        registers,
        collect() {
          this.set(clients.online)
        }
      }),
      uniqueClients: new Gauge({
        name: name("unique_clients"),
        help: "An estimate (HyperLogLog, about 1.6% error) of distinct client IPs that started a session within the window.",
        labelNames: ["window"],
        registers,
        collect() {
          const now = clock.unsafeCurrentTimeMillis()
          windowLabels.forEach((window, i) => this.set({ window }, clients.seen(i, now)))
        }
      }),
      shared: { telegramTraffic, domainFrontingTraffic, clients, telegramLabel }
    } satisfies Service
  })

/**
 * The metrics in a fresh registry. Invalid options are a defect with a message
 * naming the option (`IllegalArgumentException`), as `EventStream.layer`'s.
 */
export const layer = (options: Options = {}): Layer.Layer<Metrics> => Layer.effect(Metrics, make(options))

/** The series of one Telegram connection label set; traffic series are made on first traffic, as mtg's. */
interface TelegramSeries {
  readonly labels: { readonly telegram_ip: string; readonly dc: string }
  toClient: Tally | undefined
  fromClient: Tally | undefined
}

const directions = { toClient: "to_client", fromClient: "from_client" } as const
const ipListLabels = { blocklist: { ip_list: "blocklist" }, allowlist: { ip_list: "allowlist" } } as const
const ipListOf = (isBlockList: boolean) => isBlockList ? ipListLabels.blocklist : ipListLabels.allowlist
const familyLabels: Record<IpFamily, { readonly ip_family: IpFamily }> = {
  ipv4: { ip_family: "ipv4" },
  ipv6: { ip_family: "ipv6" }
}

/**
 * The observer factory: each shard's instance keeps its sessions' state (ip
 * family, Telegram ip and dc, fronting, start time) and updates the shared
 * metrics, with synchronous handlers. Events of unknown sessions are ignored,
 * as mtg. Its `shutdown` finishes the sessions still open, so the gauges
 * return to 0 (mtg's Prometheus observer only forgets them).
 */
export const observer: Observer.Factory<never, Metrics> = Effect.map(Metrics, (metrics) => {
  const { clients, domainFrontingTraffic, telegramLabel, telegramTraffic } = metrics.shared
  const trafficOf = (labels: TelegramSeries["labels"], direction: keyof typeof directions): Tally =>
    telegramTraffic.tally({ ...labels, direction: directions[direction] })
  const beforeDC: TelegramSeries = { labels: { telegram_ip: "", dc: "" }, toClient: undefined, fromClient: undefined }
  let frontingToClient: Tally | undefined
  let frontingFromClient: Tally | undefined

  const sessions = makeSessions<TelegramSeries>({
    started: (session) => {
      metrics.clientConnections.inc(familyLabels[session.ipFamily])
      clients.opened(session.clientIp, session.startedAt)
    },
    connected: (_session, telegramIp, dc, seconds) => {
      const labels = { telegram_ip: telegramLabel(telegramIp), dc: String(dc) }
      metrics.telegramConnections.inc(labels)
      metrics.timeToDC.observe(labels, seconds)
      return { labels, toClient: undefined, fromClient: undefined }
    },
    disconnected: (telegram) => metrics.telegramConnections.dec(telegram.labels),
    fronted: (session, first) => {
      metrics.domainFronting.inc()
      if (first) metrics.domainFrontingConnections.inc(familyLabels[session.ipFamily])
    },
    telegramTraffic: (telegram = beforeDC, bytes, toClient) => {
      if (toClient) (telegram.toClient ??= trafficOf(telegram.labels, "toClient")).total += bytes
      else (telegram.fromClient ??= trafficOf(telegram.labels, "fromClient")).total += bytes
    },
    frontingTraffic: (bytes, toClient) => {
      if (toClient) (frontingToClient ??= domainFrontingTraffic.tally({ direction: "to_client" })).total += bytes
      else (frontingFromClient ??= domainFrontingTraffic.tally({ direction: "from_client" })).total += bytes
    },
    finished: (session, seconds) => {
      const labels = familyLabels[session.ipFamily]
      metrics.clientConnections.dec(labels)
      if (session.fronted) metrics.domainFrontingConnections.dec(labels)
      metrics.sessionDuration.observe(labels, seconds)
      clients.closed(session.clientIp)
    }
  })

  return Observer.sync({
    ...sessions,
    eventConcurrencyLimited: () => metrics.concurrencyLimited.inc(),
    eventIPBlocklisted: (event) => metrics.ipBlocklisted.inc(ipListOf(event.isBlockList)),
    eventReplayAttack: () => metrics.replayAttacks.inc(),
    eventIPListSize: (event) => metrics.ipListSize.set(ipListOf(event.isBlockList), event.size),
    shutdown: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => sessions.finishAll(now)))
  })
})
