import type { AuthFile } from "../auth/auth-file.ts";
import type { Persistence } from "../persistence/persistence.ts";
import type { LentItems } from "../protocol/out-buffer.ts";
import type { AcceptQueue } from "./accept-queue.ts";
import type { Settings } from "../settings/settings.ts";
import type { Cache } from "../store/cache.ts";
import type { Crawler } from "../store/crawler.ts";
import type { SlabEngine } from "../store/slab-engine.ts";
import type { Counters } from "../stats/counters.ts";
import type { LoopDelay } from "../stats/loop-delay.ts";
import type { PrefixStats } from "../stats/prefix-stats.ts";
import type { Heartbeat } from "./heartbeat.ts";
import type { TlsListeners } from "./tls.ts";

/**
 * What protocol handlers may know of the server around them. A class, not an object literal:
 * V8 keeps a literal with an accessor (`verbosity`) in dictionary mode, and every `ctx.x` on
 * the request path (counters, persistence, prefixStats: five a get) was then a hash lookup
 * through a generic load stub instead of one machine load.
 */
export class ServerContext {
  readonly settings: Settings;
  readonly cache: Cache;
  /** The cache's engine, for what only it knows: classes, LRU tuning, page moves. */
  readonly engine: SlabEngine;
  readonly counters: Counters;
  /** The LRU crawler (`lru_crawler` commands, crawler stats). */
  readonly crawler: Crawler;
  readonly loopDelay: LoopDelay;
  /** The pace of background work; every read tells it a client is active. */
  readonly heartbeat: Heartbeat;
  /** The log and snapshots (--aof), or null. */
  readonly persistence: Persistence | null;
  /** -Y: the users text connections authenticate as before anything else, or null. */
  readonly auth: AuthFile | null;
  /** -Z: the TLS listeners and their certificates (`refresh_certs`), or null. */
  readonly tls: TlsListeners | null;
  /** Which connection's replies hold item values lent rather than copied (see OutBuffer.lendTo). */
  readonly lentItems: LentItems;
  /** `stats detail`: per key-prefix counters, recorded only while enabled. */
  readonly prefixStats: PrefixStats;
  /** Unix seconds when the server started. */
  readonly startedAt: number;
  /** The listening sockets and the open client connections, for `stats conns`. */
  readonly connections: () => Iterable<ConnectionInfo>;
  /** Clients waiting at the connection limit with -o no_maxconns_fast; null otherwise. */
  readonly acceptQueue: AcceptQueue | null;
  /** Stops the server (the `shutdown` command); `graceful` lets connections finish. */
  readonly shutdown: (graceful: boolean) => void;
  private level: number;
  private readonly onVerbosity: (v: number) => void;

  /** `onVerbosity`: what else a new verbosity changes (the server's log level). */
  constructor(parts: Omit<ServerContext, "verbosity">, verbosity: number, onVerbosity: (v: number) => void) {
    this.settings = parts.settings;
    this.cache = parts.cache;
    this.engine = parts.engine;
    this.counters = parts.counters;
    this.crawler = parts.crawler;
    this.loopDelay = parts.loopDelay;
    this.heartbeat = parts.heartbeat;
    this.persistence = parts.persistence;
    this.auth = parts.auth;
    this.tls = parts.tls;
    this.prefixStats = parts.prefixStats;
    this.lentItems = parts.lentItems;
    this.startedAt = parts.startedAt;
    this.connections = parts.connections;
    this.acceptQueue = parts.acceptQueue;
    this.shutdown = parts.shutdown;
    this.level = verbosity;
    this.onVerbosity = onVerbosity;
  }

  /** Live verbosity (`verbosity` command, `-v`). */
  get verbosity(): number {
    return this.level;
  }

  set verbosity(v: number) {
    this.level = v;
    this.onVerbosity(v);
  }
}

/** One line group of `stats conns`, in memcached's terms. */
export interface ConnectionInfo {
  /** Orders the entries as memcached's fds do: listeners first, then the lowest free number. */
  readonly id: number;
  /** memcached's form: "tcp:127.0.0.1:11211", "tcp6:[::1]:11211" or "unix:/path". */
  readonly address: string;
  /** For a client, the address of the listener that accepted it; null for a listener. */
  readonly listenAddress: string | null;
  /** Unix seconds of the last command (or of the accept). */
  readonly lastCommandAt: number;
  /** memcached's connection state name, e.g. conn_listening, conn_read, conn_nread. */
  readonly state: string;
  /** "onread": reads land in the thread's shared buffer; "data": Node allocates per read; null for a listener. */
  readonly readMode: "onread" | "data" | null;
  /** A UDP socket's connection (memcached lists it with a `UDP` line). */
  readonly udp?: boolean;
}

/** memcached's spelling of a socket address. */
export function socketAddress(
  family: string | undefined,
  address: string | undefined,
  port: number | undefined,
  path: string | null,
  transport: "tcp" | "udp" = "tcp",
): string {
  if (address === undefined) return `unix:${path ?? ""}`;
  return family === "IPv6" ? `${transport}6:[${address}]:${port}` : `${transport}:${address}:${port}`;
}
