/**
 * A `host:port` address given on the command line (`127.0.0.1:9090`,
 * `localhost:0`, `[::1]:8125`).
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** A host and a port. */
export interface Address {
  readonly host: string
  readonly port: number
}

/** The address as text, bracketing an IPv6 host. */
export const format = (address: Address): string =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`

const pattern = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/

/** Decodes `host:port` (IPv6 hosts in brackets); port 0 asks the system for a free one. */
export const Address: Schema.Schema<Address, string> = Schema.transformOrFail(
  Schema.String,
  Schema.Struct({ host: Schema.String, port: Schema.Int.pipe(Schema.between(0, 65535)) }),
  {
    strict: true,
    decode: (text, _, ast) => {
      const match = pattern.exec(text)
      return match === null
        ? ParseResult.fail(new ParseResult.Type(ast, text, `expected host:port, got ${JSON.stringify(text)}`))
        : ParseResult.succeed({ host: match[1] ?? match[2]!, port: Number(match[3]) })
    },
    encode: (address) => ParseResult.succeed(format(address))
  }
)

/** An address whose port is given, not 0. */
export const WithPort: Schema.Schema<Address, string> = Address.pipe(
  Schema.filter((address) => address.port > 0 || `expected a port from 1 to 65535, got ${address.port}`)
)
