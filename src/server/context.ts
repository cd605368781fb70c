import type { Settings } from "../settings/settings.ts";
import type { Cache } from "../store/cache.ts";
import type { Crawler } from "../store/crawler.ts";
import type { Counters } from "../stats/counters.ts";
import type { LoopDelay } from "../stats/loop-delay.ts";

/** What protocol handlers may know of the server around them. */
export interface ServerContext {
  readonly settings: Settings;
  readonly cache: Cache;
  readonly counters: Counters;
  /** The LRU crawler (`lru_crawler` commands, crawler stats). */
  readonly crawler: Crawler;
  readonly loopDelay: LoopDelay;
  /** Unix seconds when the server started. */
  readonly startedAt: number;
  /** Live verbosity (`verbosity` command, `-v`). */
  verbosity: number;
  /** Number of open connections with their details, for `stats conns`. */
  connections(): Iterable<ConnectionInfo>;
  /** Stops the server (the `shutdown` command); `graceful` lets connections finish. */
  shutdown(graceful: boolean): void;
}

export interface ConnectionInfo {
  readonly id: number;
  readonly address: string;
  readonly startedAt: number;
  readonly state: string;
  /** "onread": reads land in the thread's shared buffer; "data": Node allocates per read. */
  readonly readMode: "onread" | "data";
}
