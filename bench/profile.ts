/** Runs one end-to-end case repeatedly, for `node --cpu-prof`. Usage: profile.js <observers> <shards> <path> [runs] */
import { endToEnd, type Observers, type SendPath } from "./eventStream.js"
import { makeEvents } from "./fixtures.js"
import { formatRate } from "./harness.js"

const [observers = "sync", shards = "2", path = "send", runs = "5"] = process.argv.slice(2)
const run = endToEnd(makeEvents(), { shards: Number(shards), observers: observers as Observers, path: path as SendPath })
for (let i = 0; i < Number(runs); i++) {
  const { events, ms } = await run()
  console.log(formatRate((events / ms) * 1000))
}
