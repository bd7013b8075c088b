/**
 * mtg's metrics sent to a StatsD server over UDP (its `stats` package's
 * StatsD observer), through a hot-shots client that lives in the layer's
 * scope: gauges as deltas, counters as counts, mtg's names and tags in the
 * `datadog`, `influxdb` or `graphite` tag format, plus session duration and
 * time to DC as timings.
 *
 * @since 0.1.0
 */
import StatsDClient, { type StatsD } from "hot-shots"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { type IpFamily, makeSessions } from "./internal/sessions.js"
import * as Observer from "./Observer.js"

/**
 * How tags are written, as mtg's `statsd-tag-format`:
 * - `datadog`: `name:1|c|#key:value,key:value`
 * - `influxdb`: `name,key=value,key=value:1|c` (Telegraf)
 * - `graphite`: `name;key=value;key=value:1|c`
 *
 * In the name-placed formats, characters that would break the line (`:` of
 * IPv6 addresses, `|`) are written as `_`.
 */
export type TagFormat = "datadog" | "influxdb" | "graphite"

/** Options of `layer`. */
export interface Options {
  /** The StatsD server's host name or address. */
  readonly host: string
  /** The StatsD server's UDP port. */
  readonly port: number
  /** Prepended to every metric name as given; default `mtg.`, mtg's. */
  readonly prefix?: string | undefined
  /** Default `datadog`, mtg's. */
  readonly tagFormat?: TagFormat | undefined
  /** Lines are packed into datagrams of at most this many bytes; default 1432 (fits an Ethernet MTU); 0 sends each line alone. */
  readonly maxPacketSize?: number | undefined
  /** How long a partly filled datagram may wait; default 100 milliseconds. */
  readonly flushInterval?: Duration.DurationInput | undefined
}

/** A metric name with its tags, ready for the client. */
export interface Metric {
  readonly stat: string
  readonly tags: Array<string> | undefined
}

/** The StatsD client service. */
export interface Service {
  /** The hot-shots client; it is closed, after a last flush, with the layer's scope. */
  readonly client: StatsD
  readonly tagFormat: TagFormat
  /** A metric `name` (the prefix added) with `tags` in the client's tag format. */
  readonly metric: (name: string, tags?: ReadonlyArray<readonly [key: string, value: string]>) => Metric
}

/** The StatsD client. */
export class Client extends Context.Tag("mtg-events/StatsD/Client")<Client, Service>() {}

const tagFormats: ReadonlyArray<TagFormat> = ["datadog", "influxdb", "graphite"]

const invalid = (message: string): Effect.Effect<never> =>
  Effect.die(new Cause.IllegalArgumentException(`StatsD: ${message}`))

const metricFormat = (prefix: string, format: TagFormat): Service["metric"] => {
  if (format === "datadog") {
    return (name, tags = []) => ({
      stat: prefix + name,
      tags: tags.length === 0 ? undefined : tags.map(([key, value]) => `${key}:${value}`)
    })
  }
  const separator = format === "influxdb" ? "," : ";"
  return (name, tags = []) => ({
    stat: prefix + name + tags.map(([key, value]) => `${separator}${key}=${value}`).join(""),
    tags: undefined
  })
}

/** Builds the client in the current scope; see `layer`. */
export const make = (options: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const tagFormat = options.tagFormat ?? "datadog"
    if (!tagFormats.includes(tagFormat)) {
      yield* invalid(`tagFormat must be one of ${tagFormats.join(", ")}, got ${JSON.stringify(tagFormat)}`)
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      yield* invalid(`port must be an integer from 1 to 65535, got ${options.port}`)
    }
    if (typeof options.host !== "string" || options.host === "") {
      yield* invalid(`host must be a host name or address, got ${JSON.stringify(options.host)}`)
    }
    const maxPacketSize = options.maxPacketSize ?? 1432
    if (!Number.isSafeInteger(maxPacketSize) || maxPacketSize < 0) {
      yield* invalid(`maxPacketSize must be a non-negative integer, got ${maxPacketSize}`)
    }
    const flushInterval = Duration.toMillis(options.flushInterval ?? "100 millis")
    if (!(flushInterval >= 1 && Number.isFinite(flushInterval))) {
      yield* invalid(`flushInterval must be a finite duration of at least 1 millisecond`)
    }

    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    let errors = 0
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new StatsDClient({
          host: options.host,
          port: options.port,
          protocol: "udp",
          maxBufferSize: maxPacketSize,
          bufferFlushInterval: flushInterval,
          datadog: false,
          includeDataDogTags: false,
          includeDatadogTelemetry: false,
          errorHandler: (error) => {
            if (errors++ === 0) {
              runFork(Effect.logWarning(`mtg-events: StatsD send failed; later failures are counted`, error))
            }
          }
        })
      ),
      (client) =>
        Effect.async<void>((resume) => {
          client.close((error) => {
            const logs = [
              ...(error === undefined || error === null ? [] : [Effect.logWarning("mtg-events: StatsD close failed", error)]),
              ...(errors > 1 ? [Effect.logWarning(`mtg-events: ${errors} StatsD sends failed`)] : [])
            ]
            resume(Effect.all(logs, { discard: true }))
          })
        })
    )
    return { client, tagFormat, metric: metricFormat(options.prefix ?? "mtg.", tagFormat) }
  })

/**
 * The StatsD client as a layer: created when built, flushed and closed when
 * its scope closes. Invalid options are a defect with a message naming the
 * option (`IllegalArgumentException`).
 */
export const layer = (options: Options): Layer.Layer<Client> => Layer.scoped(Client, make(options))

/** The metrics of one Telegram connection. */
interface TelegramMetrics {
  readonly connections: Metric
  readonly timeToDC: Metric
  readonly toClient: Metric
  readonly fromClient: Metric
}

const milliseconds = (seconds: number): number => Math.round(seconds * 1000)

/**
 * The observer factory: each shard's instance keeps its sessions' state and
 * sends mtg's metrics: `client_connections`, `telegram_connections` and
 * `domain_fronting_connections` as gauge deltas, traffic and rejections as
 * counts, `iplist_size` as a gauge; beyond mtg, `session_duration` and
 * `time_to_dc` as timings (ms). Its `shutdown` finishes every session still
 * open, so the connection gauges return to zero, as mtg's does.
 */
export const observer: Observer.Factory<never, Client> = Effect.map(Client, ({ client, metric }) => {
  const byFamily = (name: string): Record<IpFamily, Metric> => ({
    ipv4: metric(name, [["ip_family", "ipv4"]]),
    ipv6: metric(name, [["ip_family", "ipv6"]])
  })
  const clientConnections = byFamily("client_connections")
  const frontingConnections = byFamily("domain_fronting_connections")
  const sessionDuration = byFamily("session_duration")
  const frontingToClient = metric("domain_fronting_traffic", [["direction", "to_client"]])
  const frontingFromClient = metric("domain_fronting_traffic", [["direction", "from_client"]])
  const domainFronting = metric("domain_fronting")
  const concurrencyLimited = metric("concurrency_limited")
  const replayAttacks = metric("replay_attacks")
  const ipList = (name: string) => ({
    blocklist: metric(name, [["ip_list", "blocklist"]]),
    allowlist: metric(name, [["ip_list", "allowlist"]])
  })
  const ipBlocklisted = ipList("ip_blocklisted")
  const ipListSize = ipList("iplist_size")

  const telegramMetrics = (telegramIp: string, dc: string): TelegramMetrics => {
    const tags = [["telegram_ip", telegramIp], ["dc", dc]] as const
    return {
      connections: metric("telegram_connections", tags),
      timeToDC: metric("time_to_dc", tags),
      toClient: metric("telegram_traffic", [...tags, ["direction", "to_client"]]),
      fromClient: metric("telegram_traffic", [...tags, ["direction", "from_client"]])
    }
  }
  const beforeDC = telegramMetrics("", "")

  const gauge = (m: Metric, value: number): void => client.gauge(m.stat, value, m.tags)
  const gaugeDelta = (m: Metric, delta: number): void => client.gaugeDelta(m.stat, delta, m.tags)
  const count = (m: Metric, value: number): void => client.increment(m.stat, value, m.tags)
  const timing = (m: Metric, seconds: number): void => client.timing(m.stat, milliseconds(seconds), m.tags)

  const sessions = makeSessions<TelegramMetrics>({
    started: (session) => gaugeDelta(clientConnections[session.ipFamily], 1),
    connected: (_session, telegramIp, dc, seconds) => {
      const telegram = telegramMetrics(telegramIp, String(dc))
      gaugeDelta(telegram.connections, 1)
      timing(telegram.timeToDC, seconds)
      return telegram
    },
    disconnected: (telegram) => gaugeDelta(telegram.connections, -1),
    fronted: (session, first) => {
      count(domainFronting, 1)
      if (first) gaugeDelta(frontingConnections[session.ipFamily], 1)
    },
    telegramTraffic: (telegram = beforeDC, bytes, toClient) =>
      count(toClient ? telegram.toClient : telegram.fromClient, bytes),
    frontingTraffic: (bytes, toClient) => count(toClient ? frontingToClient : frontingFromClient, bytes),
    finished: (session, seconds) => {
      gaugeDelta(clientConnections[session.ipFamily], -1)
      if (session.fronted) gaugeDelta(frontingConnections[session.ipFamily], -1)
      timing(sessionDuration[session.ipFamily], seconds)
    }
  })

  return Observer.sync({
    ...sessions,
    eventConcurrencyLimited: () => count(concurrencyLimited, 1),
    eventIPBlocklisted: (event) => count(event.isBlockList ? ipBlocklisted.blocklist : ipBlocklisted.allowlist, 1),
    eventReplayAttack: () => count(replayAttacks, 1),
    eventIPListSize: (event) => gauge(event.isBlockList ? ipListSize.blocklist : ipListSize.allowlist, event.size),
    shutdown: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => sessions.finishAll(now)))
  })
})
