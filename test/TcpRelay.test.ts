import { createConnection, createServer, type Server } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as TcpRelay from "../examples/tcp-relay.js"
import * as PrometheusServer from "../layers/PrometheusServer.js"
import * as Prometheus from "../src/Prometheus.js"

/** An upstream on loopback that answers every chunk with the chunk twice, and ends when the client ends. */
const upstream = Effect.acquireRelease(
  Effect.async<Server>((resume) => {
    const server = createServer((socket) => {
      socket.on("data", (chunk) => {
        socket.write(chunk)
        socket.write(chunk)
      })
      socket.on("end", () => socket.end())
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })
).pipe(Effect.map((server) => {
  const address = server.address()
  if (typeof address !== "object" || address === null) throw new Error("upstream has no address")
  return { host: address.address, port: address.port }
}))

/**
 * A client that sends `pieces` through the relay and ends its side, either
 * at once (`endEarly`, a half-close: the reply must still arrive) or once the
 * doubled reply has fully arrived; it completes when its connection closes,
 * with the bytes it received.
 */
const client = (relay: { host: string; port: number }, pieces: ReadonlyArray<number>, endEarly: boolean) =>
  Effect.async<number, Error>((resume) => {
    const sent = pieces.reduce((a, b) => a + b, 0)
    let received = 0
    const socket = createConnection(relay.port, relay.host)
    socket.on("error", (error) => resume(Effect.fail(error)))
    socket.on("connect", () => {
      for (const [i, size] of pieces.entries()) socket.write(Buffer.alloc(size, i))
      if (endEarly) socket.end()
    })
    socket.on("data", (chunk) => {
      received += chunk.length
      if (received === 2 * sent && !endEarly) socket.end()
    })
    socket.on("close", () => resume(Effect.succeed(received)))
  })

/** The samples of a Prometheus text exposition, by series (`name{labels}`). */
const samples = (text: string): Map<string, number> =>
  new Map(
    text.split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => {
        const space = line.lastIndexOf(" ")
        return [line.slice(0, space), Number(line.slice(space + 1))] as const
      })
  )

const scrape = (server: PrometheusServer.Service) =>
  Effect.tryPromise(() => fetch(`http://${server.host}:${server.port}/metrics`).then((response) => response.text()))

describe("examples/tcp-relay", () => {
  for (const capacity of [1024, 1]) {
    it.scopedLive(`relays real connections and its metrics count every byte (capacity ${capacity})`, () =>
      Effect.gen(function*() {
        const target = yield* upstream
        const metrics = yield* Layer.build(Prometheus.layer())
        const server = Context.get(
          yield* Layer.build(
            PrometheusServer.layer({ port: 0, path: "/metrics" }).pipe(Layer.provide(Layer.succeedContext(metrics)))
          ),
          PrometheusServer.PrometheusServer
        )
        const sessions = Array.from({ length: 12 }, (_, i) => [1 + i * 97, 4096, 65_536 + i, 3])
        const sent = sessions.flat().reduce((a, b) => a + b, 0)

        const received = yield* Effect.scoped(Effect.gen(function*() {
          const relay = Context.get(
            yield* Layer.build(
              TcpRelay.withMetrics({ listen: { host: "127.0.0.1", port: 0 }, upstream: target, dc: 4 }, {
                shards: 2,
                capacity
              }).pipe(Layer.provide(Layer.succeedContext(metrics)))
            ),
            TcpRelay.Relay
          )
          return yield* Effect.forEach(sessions, (pieces, i) => client(relay, pieces, i % 2 === 0), {
            concurrency: "unbounded"
          })
        }))
        expect(received.reduce((a, b) => a + b, 0)).toBe(2 * sent)

        const series = samples(yield* scrape(server))
        const telegram = `telegram_ip="127.0.0.1",dc="4"`
        expect(series.get(`mtg_telegram_traffic{${telegram},direction="from_client"}`)).toBe(sent)
        expect(series.get(`mtg_telegram_traffic{${telegram},direction="to_client"}`)).toBe(2 * sent)
        expect(series.get(`mtg_telegram_connections{${telegram}}`)).toBe(0)
        expect(series.get(`mtg_client_connections{ip_family="ipv4"}`)).toBe(0)
        expect(series.get(`mtg_session_duration_seconds_count{ip_family="ipv4"}`)).toBe(sessions.length)
        expect(series.get(`mtg_time_to_dc_seconds_count{${telegram}}`)).toBe(sessions.length)
      }))
  }

  it.scopedLive("reports a taken port as a typed error", () =>
    Effect.gen(function*() {
      const target = yield* upstream
      const metrics = yield* Layer.build(Prometheus.layer())
      const error = yield* Layer.build(
        TcpRelay.withMetrics({ listen: target, upstream: target }).pipe(Layer.provide(Layer.succeedContext(metrics)))
      ).pipe(Effect.flip)
      expect(error._tag).toBe("ListenError")
      expect(error.message).toContain(`cannot listen on 127.0.0.1:${target.port}`)
    }))
})
