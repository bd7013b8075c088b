/**
 * Writes text to a file or to stdout, waiting when the destination is slower
 * than the writer, so output of any size takes bounded memory.
 *
 * @since 0.1.0
 */
import { createWriteStream } from "node:fs"
import type { Writable } from "node:stream"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** Writing to the destination failed. */
export class WriteError extends Data.TaggedError("WriteError")<{
  readonly path: string
  readonly message: string
}> {}

/** A destination for text. */
export interface LineWriter {
  /** Writes `text`, waiting while the destination's buffer is full. */
  readonly write: (text: string) => Effect.Effect<void, WriteError>
}

const failure = (path: string, error: unknown): WriteError =>
  new WriteError({ path, message: `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}` })

/** Writes through `writable`, failing with the first error it reports. */
const fromWritable = (path: string, writable: Writable): LineWriter => {
  let error: WriteError | undefined
  writable.on("error", (cause) => {
    error ??= failure(path, cause)
  })
  return {
    write: (text) =>
      Effect.async<void, WriteError>((resume) => {
        if (error !== undefined) return resume(Effect.fail(error))
        if (writable.write(text)) return resume(Effect.void)
        const onDrain = () => {
          writable.off("error", onError)
          resume(Effect.void)
        }
        const onError = (cause: unknown) => {
          writable.off("drain", onDrain)
          resume(Effect.fail(failure(path, cause)))
        }
        writable.once("drain", onDrain)
        writable.once("error", onError)
        return Effect.sync(() => {
          writable.off("drain", onDrain)
          writable.off("error", onError)
        })
      })
  }
}

/** Opens `path` for writing (`-` is stdout, left open); a file is closed, flushed, with the scope. */
export const open = (path: string): Effect.Effect<LineWriter, WriteError, Scope.Scope> => {
  if (path === "-") return Effect.succeed(fromWritable("stdout", process.stdout))
  return Effect.acquireRelease(
    Effect.async<Writable, WriteError>((resume) => {
      const file = createWriteStream(path)
      const onError = (cause: unknown) => resume(Effect.fail(failure(path, cause)))
      file.once("error", onError)
      file.once("open", () => {
        file.off("error", onError)
        resume(Effect.succeed(file))
      })
    }),
    (file) =>
      Effect.async<void>((resume) => {
        file.end(() => resume(Effect.void))
      })
  ).pipe(Effect.map((file) => fromWritable(path, file)))
}
