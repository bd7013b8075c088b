/**
 * A small TCP relay on Effect and node:net that reports its sessions through
 * the `EventStream`, as mtg reports proxy sessions: a start when a client
 * connects, connectedToDC when the upstream connection is up, traffic for
 * every chunk relayed either way, and a finish when the client's connection
 * closes. With the Prometheus observer and /metrics served, it is a complete
 * app in a few layers.
 *
 * Run it (Ctrl-C stops it cleanly):
 *
 *     npx vite-node --script examples/tcp-relay.ts \
 *       --listen 127.0.0.1:8443 --upstream 127.0.0.1:9000 --metrics 127.0.0.1:3129
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as PrometheusServer from "../layers/PrometheusServer.js"
import * as Address from "../src/cli/Address.js"
import { Event, EventStream, Prometheus } from "../src/index.js"

/** Options of the relay. */
export interface Options {
  /** Where the relay listens; port 0 picks a free one. */
  readonly listen: Address.Address
  /** Where it relays to (mtg's Telegram datacenter). */
  readonly upstream: Address.Address
  /** The datacenter number reported in connectedToDC; default 2. */
  readonly dc?: number | undefined
}

/** The running relay: the address it listens on. */
export class Relay extends Context.Tag("examples/TcpRelay/Relay")<Relay, Address.Address>() {}

/** The relay could not listen. */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly message: string }> {}

/**
 * Sends a session's events in order without blocking the socket callbacks:
 * an event goes straight into its shard when there is room; otherwise it
 * waits in a backlog, the session's sockets pause, and a fiber sends the
 * backlog with backpressure, then resumes them.
 */
class SessionEvents {
  private readonly backlog: Array<Event.Event> = []
  private readonly sockets: Array<Socket> = []

  constructor(
    private readonly stream: EventStream.Service,
    private readonly run: (effect: Effect.Effect<void>) => unknown
  ) {}

  /** Pauses `socket` with the session while a backlog is being sent. */
  watch(socket: Socket): void {
    this.sockets.push(socket)
    if (this.backlog.length > 0) socket.pause()
  }

  emit(event: Event.Event): void {
    if (this.backlog.length === 0 && this.stream.unsafeSend(event) !== "full") return
    this.backlog.push(event)
    if (this.backlog.length > 1) return
    for (const socket of this.sockets) socket.pause()
    this.run(this.flush)
  }

  private readonly flush: Effect.Effect<void> = Effect.suspend(() => {
    const events = this.backlog.slice()
    return Effect.flatMap(this.stream.sendAll(events), () => {
      this.backlog.splice(0, events.length)
      if (this.backlog.length > 0) return this.flush
      for (const socket of this.sockets) socket.resume()
      return Effect.void
    })
  })
}

/**
 * Relays each client connection to the upstream, reporting the session to the
 * `EventStream`. Closing the scope stops listening, closes every connection
 * (each session's finish is sent), and waits until every event is handed to
 * the stream.
 */
export const make = (
  options: Options
): Effect.Effect<Address.Address, ListenError, EventStream.EventStream | Scope.Scope> =>
  Effect.gen(function*() {
    const stream = yield* EventStream.EventStream
    const runSync = Runtime.runSync(yield* Effect.runtime<never>())
    const fibers = yield* FiberSet.make<void>()
    const run = yield* FiberSet.runtime(fibers)<never>()
    const dc = options.dc ?? 2
    const clients = new Set<Socket>()

    const relay = (client: Socket): void => {
      const streamId = randomBytes(10).toString("hex")
      const events = new SessionEvents(stream, run)
      clients.add(client)
      events.emit(runSync(Event.start(streamId, client.remoteAddress ?? "0.0.0.0")))
      const upstream = createConnection({ ...options.upstream, allowHalfOpen: true })
      // As mtg, relay (and count traffic) only once the upstream is connected.
      upstream.on("connect", () => {
        events.emit(runSync(Event.connectedToDC(streamId, upstream.remoteAddress ?? "0.0.0.0", dc)))
        client.on("data", (chunk: Buffer) => events.emit(runSync(Event.traffic(streamId, chunk.length, false))))
        upstream.on("data", (chunk: Buffer) => events.emit(runSync(Event.traffic(streamId, chunk.length, true))))
        client.pipe(upstream)
        upstream.pipe(client)
        events.watch(client)
        events.watch(upstream)
      })
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
      upstream.on("close", () => client.destroy())
      client.on("close", () => {
        clients.delete(client)
        upstream.destroy()
        events.emit(runSync(Event.finish(streamId)))
      })
    }

    // Half-open sockets: when one side ends, the other may still answer; each end is passed on by `pipe`.
    const server = createServer({ allowHalfOpen: true }, relay)
    yield* Effect.acquireRelease(listen(server, options.listen), () =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const client of clients) client.destroy()
      }).pipe(Effect.zipRight(FiberSet.awaitEmpty(fibers))))
    return address(server)
  })

const address = (server: Server): Address.Address => {
  const bound = server.address()
  return typeof bound === "object" && bound !== null
    ? { host: bound.address, port: bound.port }
    : { host: String(bound), port: 0 }
}

const listen = (server: Server, at: Address.Address): Effect.Effect<void, ListenError> =>
  Effect.async<void, ListenError>((resume) => {
    const onError = (error: Error) =>
      resume(Effect.fail(new ListenError({ message: `cannot listen on ${Address.format(at)}: ${error.message}` })))
    server.once("error", onError)
    server.listen(at.port, at.host, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

/** The relay as a layer; it needs an `EventStream`. */
export const layer = (options: Options): Layer.Layer<Relay, ListenError, EventStream.EventStream> =>
  Layer.scoped(Relay, make(options))

/**
 * The relay with its own `EventStream` feeding the Prometheus metrics. The
 * metrics come from outside, so they outlive the relay: closing this layer
 * drains the stream into them.
 */
export const withMetrics = (
  options: Options,
  stream: Omit<EventStream.Options, "observers"> = {}
): Layer.Layer<Relay, ListenError, Prometheus.Metrics> =>
  layer(options).pipe(Layer.provide(EventStream.layer({ ...stream, observers: [Prometheus.observer] })))

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      listen: { type: "string", default: "127.0.0.1:8443" },
      upstream: { type: "string" },
      metrics: { type: "string", default: "127.0.0.1:3129" },
      dc: { type: "string", default: "2" }
    }
  })
  const decode = Schema.decodeUnknown(Address.Address)
  Effect.gen(function*() {
    const options = {
      listen: yield* decode(values.listen),
      upstream: yield* decode(values.upstream),
      metrics: yield* decode(values.metrics),
      dc: Number(values.dc)
    }
    const app = Layer.merge(
      withMetrics(options),
      PrometheusServer.layer({ ...options.metrics, path: "/metrics" })
    ).pipe(Layer.provide(Prometheus.layer()))
    const running = yield* Layer.build(app)
    const relay = Context.get(running, Relay)
    const metrics = Context.get(running, PrometheusServer.PrometheusServer)
    yield* Effect.logInfo(
      `relaying ${Address.format(relay)} -> ${Address.format(options.upstream)}; metrics on http://${
        Address.format(metrics)
      }/metrics`
    )
    return yield* Effect.never
  }).pipe(Effect.scoped, NodeRuntime.runMain)
}
