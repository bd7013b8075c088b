import { Event } from "../../src/index.js"

/** Session events with explicit timestamps, so durations are exact under any clock. */
export const ev = {
  start: (t: number, streamId: string, remoteIp: string) => new Event.EventStart({ streamId, timestamp: t, remoteIp }),
  dc: (t: number, streamId: string, remoteIp: string, dc: number) =>
    new Event.EventConnectedToDC({ streamId, timestamp: t, remoteIp, dc }),
  traffic: (t: number, streamId: string, traffic: number, isRead: boolean) =>
    new Event.EventTraffic({ streamId, timestamp: t, traffic, isRead }),
  fronting: (t: number, streamId: string) => new Event.EventDomainFronting({ streamId, timestamp: t }),
  finish: (t: number, streamId: string) => new Event.EventFinish({ streamId, timestamp: t })
}
