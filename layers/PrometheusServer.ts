/**
 * Serves the `Prometheus.Metrics` registry over HTTP (node:http), as mtg's
 * stats endpoint: the text format, or OpenMetrics when the `Accept` header
 * prefers it. The listener opens when the layer is built and closes, with its
 * connections, when the layer's scope closes.
 *
 * @since 0.1.0
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Registry } from "prom-client"
import { expose, prefersOpenMetrics } from "../src/internal/exposition.js"
import * as Prometheus from "../src/Prometheus.js"

/** Where the server listens: the bound host and port (the real one when asked for port 0). */
export interface Service {
  readonly host: string
  readonly port: number
}

/** The running metrics server. */
export class PrometheusServer extends Context.Tag("mtg-events/PrometheusServer")<PrometheusServer, Service>() {}

/** Options of `layer`. */
export interface Options {
  /** Default `127.0.0.1`, mtg's. */
  readonly host?: string | undefined
  /** Default 3129, mtg's; 0 picks a free port. */
  readonly port?: number | undefined
  /** The path serving the metrics; default `/`. Other paths get 404. */
  readonly path?: string | undefined
}

/** The server could not listen (address in use, no permission, bad host...). */
export class ServeError extends Data.TaggedError("PrometheusServeError")<{
  readonly host: string
  readonly port: number
  /** The system error code, such as `EADDRINUSE`, when there is one. */
  readonly code: string | undefined
  readonly message: string
  readonly cause: unknown
}> {}

const invalid = (message: string): Effect.Effect<never> =>
  Effect.die(new Cause.IllegalArgumentException(`PrometheusServer: ${message}`))

const handler = (registry: Registry, path: string) => (request: IncomingMessage, response: ServerResponse): void => {
  const reply = (status: number, contentType: string, body: string): void => {
    response.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) })
    response.end(request.method === "HEAD" ? undefined : body)
  }
  if ((request.url ?? "/").split("?", 1)[0] !== path) {
    return reply(404, "text/plain; charset=utf-8", "Not Found\n")
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("Allow", "GET, HEAD")
    return reply(405, "text/plain; charset=utf-8", "Method Not Allowed\n")
  }
  expose(registry, prefersOpenMetrics(request.headers.accept)).then(
    ({ body, contentType }) => reply(200, contentType, body),
    (error: unknown) => reply(500, "text/plain; charset=utf-8", `Collecting metrics failed: ${String(error)}\n`)
  )
}

const listen = (server: Server, host: string, port: number): Effect.Effect<Service, ServeError> =>
  Effect.async<Service, ServeError>((resume) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      resume(Effect.fail(
        new ServeError({
          host,
          port,
          code: error.code,
          message: `Prometheus server cannot listen on ${host}:${port}: ${error.message}`,
          cause: error
        })
      ))
    }
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      const address = server.address() as AddressInfo
      resume(Effect.succeed({ host: address.address, port: address.port }))
    })
  })

const close = (server: Server): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })

/**
 * The metrics server as a layer. Fails with `ServeError` when it cannot
 * listen; a bad port or path is a defect (`IllegalArgumentException`).
 */
export const layer = (options: Options = {}): Layer.Layer<PrometheusServer, ServeError, Prometheus.Metrics> =>
  Layer.scoped(
    PrometheusServer,
    Effect.gen(function*() {
      const host = options.host ?? "127.0.0.1"
      const port = options.port ?? 3129
      const path = options.path ?? "/"
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        return yield* invalid(`port must be an integer from 0 to 65535, got ${port}`)
      }
      if (!path.startsWith("/")) {
        return yield* invalid(`path must start with "/", got ${JSON.stringify(path)}`)
      }
      const { registry } = yield* Prometheus.Metrics
      const server = createServer(handler(registry, path))
      return yield* Effect.acquireRelease(listen(server, host, port), () => close(server))
    })
  )
