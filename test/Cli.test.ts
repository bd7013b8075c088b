import { spawn } from "node:child_process"
import { createSocket } from "node:dgram"
import { existsSync } from "node:fs"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, FastCheck, Schema } from "effect"
import * as Address from "../src/cli/Address.js"
import * as JsonLines from "../src/cli/JsonLines.js"
import { Workload } from "../src/cli/Workload.js"
import { Event } from "../src/index.js"

const main = join(import.meta.dirname, "..", "dist", "src", "cli", "main.js")

interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The CLI as a child process, run as a user would. `output` completes when
 * stderr has printed a line matching the pattern; the child is killed if the
 * scope closes first.
 */
const start = (args: ReadonlyArray<string>, stdin?: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`)
      const child = spawn(process.execPath, [main, ...args], { stdio: "pipe" })
      let stdout = ""
      let stderr = ""
      const watchers: Array<() => void> = []
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        stdout += text
      })
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text
        for (const watch of watchers) watch()
      })
      child.stdin.end(stdin)
      const finished = Effect.async<Finished>((resume) => {
        const done = () => resume(Effect.succeed({ code: child.exitCode, stdout, stderr }))
        if (child.exitCode !== null) done()
        else child.once("close", done)
      })
      const output = (pattern: RegExp) =>
        Effect.async<RegExpMatchArray, Error>((resume) => {
          const watch = () => {
            const match = pattern.exec(stderr)
            if (match !== null) resume(Effect.succeed(match))
          }
          watchers.push(watch)
          child.once("close", () => resume(Effect.fail(new Error(`exited before ${pattern}:\n${stderr}`))))
          watch()
        })
      return { child, finished, output }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

/** Runs the CLI to its end. */
const run = (args: ReadonlyArray<string>, stdin?: string) =>
  Effect.flatMap(start(args, stdin), (child) => child.finished).pipe(Effect.scoped)

/** The rows of a summary table (up to the top series), by label. */
const rows = (summary: string): Map<string, string> => {
  const table = summary.split("\ntop series\n")[0]!
  const entries = table.split("\n").flatMap((line) => {
    const match = /^ {2}(\S.*?)\s{2,}(\S.*)$/.exec(line)
    return match === null ? [] : [[match[1]!, match[2]!] as const]
  })
  return new Map(entries)
}

const number = (table: Map<string, string>, label: string): number => {
  const value = table.get(label)
  if (value === undefined) throw new Error(`no row ${label}`)
  return Number(value.replaceAll(",", ""))
}

/** The rows that depend only on the events, not on timing. */
const eventRows = (table: Map<string, string>) =>
  [...table].filter(([label]) => !["elapsed", "throughput", "lines", "bad lines"].includes(label))

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "mtg-events-cli-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

describe("Workload", () => {
  it.prop(
    "makes exactly the events asked for; every session starts first, finishes last, once",
    [FastCheck.integer(), FastCheck.integer({ min: 1, max: 40 }), FastCheck.integer({ min: 0, max: 3000 })],
    ([seed, sessions, events]) => {
      const workload = new Workload({ seed, sessions, events })
      const all: Array<Event.Event> = []
      for (let batch = workload.next(500, 7); batch.length > 0; batch = workload.next(500, 7)) all.push(...batch)
      expect(all.length).toBe(events)
      expect(workload.open).toBe(0)
      const phase = new Map<string, "open" | "finished">()
      for (const event of all) {
        expect(Either.isRight(Event.decode(Event.encode(event)))).toBe(true)
        if (event.streamId === "") continue
        if (event._tag === "EventStart") {
          expect(phase.has(event.streamId)).toBe(false)
          phase.set(event.streamId, "open")
        } else {
          expect(phase.get(event.streamId)).toBe("open")
          if (event._tag === "EventFinish") phase.set(event.streamId, "finished")
        }
      }
      expect([...phase.values()].every((p) => p === "finished")).toBe(true)
    },
    { fastCheck: { numRuns: 60 } }
  )

  it("gives the same events for the same seed, and others for another", () => {
    const events = (seed: number) => JsonLines.encode(new Workload({ seed, sessions: 50, events: 2000 }).next(5000, 1))
    expect(events(7)).toBe(events(7))
    expect(events(7)).not.toBe(events(8))
  })

  it("winds down after end(): the open sessions finish, nothing starts", () => {
    const workload = new Workload({ seed: 3, sessions: 100 })
    workload.next(1000, 1)
    const open = workload.open
    expect(open).toBeGreaterThan(0)
    workload.end()
    const rest = workload.next(10_000, 2)
    expect(rest.length).toBe(open)
    expect(rest.every((event) => event._tag === "EventFinish")).toBe(true)
    expect(workload.done).toBe(true)
  })
})

describe("JsonLines.LineDecoder", () => {
  const good = [
    Event.encodeJson(new Event.EventStart({ streamId: "sé😀", timestamp: 1, remoteIp: "10.0.0.1" })),
    Event.encodeJson(new Event.EventTraffic({ streamId: "sé😀", timestamp: 2, traffic: 5, isRead: true })),
    Event.encodeJson(new Event.EventFinish({ streamId: "sé😀", timestamp: 3 }))
  ]
  const negative = `{"_tag":"EventTraffic","streamId":"x","timestamp":1,"traffic":-1,"isRead":true}`
  const text = [good[0], "{not json", "", good[1], negative, good[2]].join("\r\n")
  const bytes = new TextEncoder().encode(text)

  it.prop(
    "decodes the same lines whatever the chunking, numbering bad lines from 1",
    [FastCheck.uniqueArray(FastCheck.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 })],
    ([cuts]) => {
      const decoder = new JsonLines.LineDecoder()
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), bytes.length]
      const decoded = bounds.slice(1).map((end, i) => decoder.push(bytes.subarray(bounds[i], end)))
      decoded.push(decoder.end())
      const events = decoded.flatMap((d) => d.events)
      const bad = decoded.flatMap((d) => d.bad)
      expect(events.map(Event.encodeJson)).toEqual(good)
      expect(bad.map((b) => b.line)).toEqual([2, 5])
      expect(bad[0]!.message).toMatch(/^invalid JSON/)
      expect(bad[1]!.message).toMatch(/^EventTraffic\.traffic: /)
      expect([decoder.lines, decoder.badLines, decoder.bytes]).toEqual([6, 2, bytes.length])
    }
  )

  it("reports a line longer than the limit and goes on", () => {
    const decoder = new JsonLines.LineDecoder()
    const long = "x".repeat(JsonLines.maxLineLength / 4)
    const bad = [1, 2, 3, 4, 5].flatMap(() => decoder.push(new TextEncoder().encode(long)).bad)
    const after = decoder.push(new TextEncoder().encode(`\n${good[2]}\n`))
    expect(bad).toEqual([])
    expect(after.bad).toEqual([{ line: 1, message: `line longer than ${JsonLines.maxLineLength} characters` }])
    expect(after.events.length).toBe(1)
  })
})

describe("Address", () => {
  const decode = Schema.decodeEither(Address.Address)
  it("reads host:port and [ipv6]:port", () => {
    expect(decode("127.0.0.1:0")).toEqual(Either.right({ host: "127.0.0.1", port: 0 }))
    expect(decode("[::1]:8125")).toEqual(Either.right({ host: "::1", port: 8125 }))
    expect(Either.isLeft(decode("localhost"))).toBe(true)
    expect(Either.isLeft(decode("a:70000"))).toBe(true)
    expect(Either.isLeft(Schema.decodeEither(Address.WithPort)("a:0"))).toBe(true)
  })
})

describe("mtg-events (child process)", () => {
  it.scopedLive("simulate: a fixed seed gives the summary its emitted events add up to, every time", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = join(dir, "workload.jsonl")
      const args = ["simulate", "--events", "20000", "--sessions", "300", "--seed", "42", "--shards", "3"]
      const emitted = yield* run([...args, "--emit", file])
      expect(emitted.code).toBe(0)

      const lines = (yield* Effect.promise(() => readFile(file, "utf8"))).trimEnd().split("\n")
      const events = lines.map((line) => Either.getOrThrow(Event.decodeJson(line)))
      const table = rows(emitted.stdout)
      expect(events.length).toBe(20_000)
      for (const tag of Event.tags) {
        expect(number(table, tag)).toBe(events.filter((e) => e._tag === tag).length)
      }
      const bytes = (isRead: boolean) =>
        events.reduce((sum, e) => (e._tag === "EventTraffic" && e.isRead === isRead ? sum + e.traffic : sum), 0)
      expect(number(table, "to clients")).toBe(bytes(true))
      expect(number(table, "from clients")).toBe(bytes(false))
      expect(number(table, "started")).toBe(number(table, "finished"))
      expect(number(table, "open at end")).toBe(0)
      expect(number(table, "total")).toBe(20_000)
      expect(number(table, "delivered")).toBe(20_000)
      expect(emitted.stdout).toMatch(/^top series\n {2}[\d,]+ {2}mtg_telegram_traffic\{/m)
      expect(emitted.stderr).toMatch(/^simulate: 20,000 events in [\d.]+ s/m)

      const again = yield* run(args)
      expect(eventRows(rows(again.stdout))).toEqual(eventRows(table))
      const other = yield* run([...args.slice(0, -4), "--seed", "43"])
      expect(number(rows(other.stdout), "to clients")).not.toBe(bytes(true))

      const ingested = yield* run(["ingest", file])
      expect(ingested.code).toBe(0)
      expect(eventRows(rows(ingested.stdout))).toEqual(eventRows(table))
      expect(number(rows(ingested.stdout), "lines")).toBe(20_000)
      expect(number(rows(ingested.stdout), "bad lines")).toBe(0)
    }))

  it.scopedLive("simulate --emit - writes JSON lines to stdout and the summary to stderr", () =>
    Effect.gen(function*() {
      const result = yield* run(["simulate", "--events", "500", "--emit", "-"])
      expect(result.code).toBe(0)
      const lines = result.stdout.trimEnd().split("\n")
      expect(lines.length).toBe(500)
      expect(lines.every((line) => Either.isRight(Event.decodeJson(line)))).toBe(true)
      expect(number(rows(result.stderr), "total")).toBe(500)
    }))

  it.scopedLive("ingest: bad lines are reported with their numbers and skipped; --strict exits 1", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = join(dir, "events.jsonl")
      const input = [
        `{"_tag":"EventStart","streamId":"a","timestamp":1,"remoteIp":"1.2.3.4"}`,
        `not json`,
        ``,
        `{"_tag":"EventTraffic","streamId":"a","timestamp":2,"traffic":-5,"isRead":true}`,
        `{"_tag":"EventTraffic","streamId":"a","timestamp":3,"traffic":100,"isRead":false}`,
        `{"_tag":"EventNope","streamId":"a","timestamp":4}`,
        `{"_tag":"EventFinish","streamId":"a","timestamp":5}`
      ].join("\n")
      yield* Effect.promise(() => writeFile(file, input))

      const lenient = yield* run(["ingest", file])
      expect(lenient.code).toBe(0)
      expect(lenient.stderr).toContain("ingest: line 2: invalid JSON")
      expect(lenient.stderr).toContain("ingest: line 4: EventTraffic.traffic: ")
      expect(lenient.stderr).toContain("ingest: line 6: _tag: expected one of EventStart")
      const table = rows(lenient.stdout)
      expect([number(table, "total"), number(table, "lines"), number(table, "bad lines")]).toEqual([3, 7, 3])
      expect([number(table, "from clients"), number(table, "started"), number(table, "finished")]).toEqual([100, 1, 1])

      const strict = yield* run(["ingest", "--strict", "-"], input)
      expect(strict.code).toBe(1)
      expect(strict.stderr).toContain("3 bad lines (--strict)")
      expect(number(rows(strict.stdout), "total")).toBe(3)

      const noisy = yield* run(["ingest", "-"], "oops\n".repeat(150))
      expect(noisy.stderr.match(/^ingest: line \d+: /gm)?.length).toBe(100)
      expect(noisy.stderr).toContain("ingest: further bad lines are only counted")
      expect(number(rows(noisy.stdout), "bad lines")).toBe(150)

      const missing = yield* run(["ingest", join(dir, "nope.jsonl")])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain("cannot read")
      expect(missing.stderr).toContain("no such file")
    }))

  it.scopedLive("usage errors exit 2", () =>
    Effect.gen(function*() {
      for (
        const args of [["simulate", "--events", "0"], ["simulate", "--serve", "nowhere"], ["frobnicate"], ["ingest"]]
      ) {
        const result = yield* run(args)
        expect(result.code, args.join(" ")).toBe(2)
      }
      const help = yield* run(["simulate", "--help"])
      expect(help.code).toBe(0)
      expect(help.stdout).toContain("--sessions")
    }))

  it.scopedLive("SIGINT during a run: the stream drains, observers shut down, the summary prints", () =>
    Effect.gen(function*() {
      const child = yield* start(["simulate", "--duration", "60s"])
      yield* child.output(/running on \d+ shards/)
      child.child.kill("SIGINT")
      const result = yield* child.finished
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/\(interrupted: stream drained, observers shut down\)/)
      const table = rows(result.stdout)
      expect(number(table, "delivered")).toBe(number(table, "accepted"))
      expect(number(table, "total")).toBe(number(table, "delivered"))
      expect(number(table, "dropped: deadline")).toBe(0)
    }))

  it.scopedLive("--serve answers on /metrics during and after the run, until Ctrl-C", () =>
    Effect.gen(function*() {
      const child = yield* start(["simulate", "--events", "5000", "--seed", "9", "--serve", "127.0.0.1:0"])
      const [, url] = yield* child.output(/still serving (http:\/\/\S+); Ctrl-C/)
      const text = yield* Effect.promise(() => fetch(url!).then((response) => response.text()))
      child.child.kill("SIGINT")
      const result = yield* child.finished
      expect(result.code).toBe(0)
      const table = rows(result.stdout)
      expect(text).toContain(`mtg_replay_attacks ${number(table, "EventReplayAttack")}\n`)
      expect(text).toContain(`mtg_domain_fronting ${number(table, "EventDomainFronting")}\n`)
      expect(text).toContain(`mtg_client_connections{ip_family="ipv4"} 0\n`)
    }))

  it.scopedLive("--serve shows the stream's own counters while the stream runs", () =>
    Effect.gen(function*() {
      const child = yield* start(["simulate", "--duration", "60s", "--serve", "127.0.0.1:0"])
      const [, url] = yield* child.output(/metrics: serving (http:\/\/\S+)/)
      yield* child.output(/running on \d+ shards/)
      const text = yield* Effect.promise(() => fetch(url!).then((response) => response.text()))
      child.child.kill("SIGINT")
      expect((yield* child.finished).code).toBe(0)
      expect(text).toMatch(/^mtg_stream_events_accepted_total \d+$/m)
      expect(text).toMatch(/^mtg_stream_events_dropped_total\{reason="overflow"\} 0$/m)
    }))

  it.scopedLive("--statsd sends the metrics over UDP", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<string>()
      const socket = yield* Effect.acquireRelease(
        Effect.async<ReturnType<typeof createSocket>>((resume) => {
          const socket = createSocket("udp4")
          socket.on("message", (message) => {
            const text = message.toString("utf8")
            if (text.includes("mtg.replay_attacks")) Deferred.unsafeDone(received, Effect.succeed(text))
          })
          socket.bind(0, "127.0.0.1", () => resume(Effect.succeed(socket)))
        }),
        (socket) => Effect.sync(() => socket.close())
      )
      const result = yield* run(["simulate", "--events", "20000", "--statsd", `127.0.0.1:${socket.address().port}`])
      expect(result.code).toBe(0)
      expect(result.stderr).toContain("metrics: sending to StatsD at udp://127.0.0.1:")
      const datagram = yield* Deferred.await(received).pipe(Effect.timeout("10 seconds"))
      expect(datagram).toMatch(/mtg\.replay_attacks:1\|c/)
    }))
})
