/**
 * Events as JSON lines, the format of `ingest` and `simulate --emit`: a
 * decoder that takes input in chunks of any size and keeps only the
 * unfinished last line between them, so memory stays bounded for any input.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Event from "../Event.js"

/** A line that is not an event: its number (from 1) and why. */
export interface BadLine {
  readonly line: number
  readonly message: string
}

/** What one chunk of input completed: the events of its good lines, and its bad lines. */
export interface Decoded {
  readonly events: Array<Event.Event>
  readonly bad: Array<BadLine>
}

/** The longest line accepted, in characters; longer ones are reported as bad and skipped. */
export const maxLineLength = 1 << 20

/**
 * Splits UTF-8 input into lines and decodes each line as an event. Blank
 * lines are skipped; `\r\n` endings are accepted; a last line without a
 * newline counts once `end` is called.
 */
export class LineDecoder {
  /** Lines completed so far. */
  lines = 0
  /** Bad lines so far. */
  badLines = 0
  /** Bytes pushed so far. */
  bytes = 0

  private readonly text = new TextDecoder()
  private partial = ""
  private overlong = false

  /** Decodes the lines that `chunk` completes. */
  push(chunk: Uint8Array): Decoded {
    this.bytes += chunk.length
    return this.split(this.text.decode(chunk, { stream: true }))
  }

  /** Decodes what is left: the last line, when the input did not end with a newline. */
  end(): Decoded {
    const decoded = this.split(this.text.decode())
    if (this.partial !== "" || this.overlong) this.complete(this.partial, decoded)
    this.partial = ""
    return decoded
  }

  private split(text: string): Decoded {
    const decoded: Decoded = { events: [], bad: [] }
    let start = 0
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      const piece = text.slice(start, newline)
      start = newline + 1
      this.complete(this.partial === "" ? piece : this.partial + piece, decoded)
      this.partial = ""
    }
    if (!this.overlong) {
      const rest = text.slice(start)
      if (this.partial.length + rest.length > maxLineLength) {
        this.overlong = true
        this.partial = ""
      } else {
        this.partial += rest
      }
    }
    return decoded
  }

  private complete(line: string, decoded: Decoded): void {
    const number = ++this.lines
    if (this.overlong || line.length > maxLineLength) {
      this.overlong = false
      this.badLines++
      decoded.bad.push({ line: number, message: `line longer than ${maxLineLength} characters` })
      return
    }
    if (line.trim() === "") return
    const result = Event.decodeJson(line)
    if (Either.isRight(result)) {
      decoded.events.push(result.right)
    } else {
      this.badLines++
      decoded.bad.push({ line: number, message: result.left.message })
    }
  }
}

/** Encodes events as JSON lines, each ending in a newline. */
export const encode = (events: ReadonlyArray<Event.Event>): string => {
  let text = ""
  for (const event of events) text += Event.encodeJson(event) + "\n"
  return text
}
