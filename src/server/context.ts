import type { Settings } from "../settings/settings.ts";
import type { Cache } from "../store/cache.ts";
import type { Counters } from "../stats/counters.ts";
import type { PrefixStats } from "../stats/prefix-stats.ts";

/** What protocol handlers may know of the server around them. */
export interface ServerContext {
  readonly settings: Settings;
  readonly cache: Cache;
  readonly counters: Counters;
  /** `stats detail`: per key-prefix counters, recorded only while enabled. */
  readonly prefixStats: PrefixStats;
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
}
