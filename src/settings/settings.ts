/** The validated, frozen configuration every module receives; nothing else reads argv. */
export interface Settings {
  readonly port: number;
  /** Addresses to listen on; empty means all interfaces. */
  readonly listen: readonly string[];
  readonly udpPort: number;
  readonly socketPath: string | null;
  readonly socketMask: number;
  /** Bytes of item memory (-m). */
  readonly memoryLimit: number;
  readonly maxConnections: number;
  readonly threads: number;
  /** Largest item, in bytes, as memcached counts it (-I). */
  readonly maxItemSize: number;
  /**
   * -o slab_chunk_max, in bytes: items larger than this are stored as chained chunks. As in
   * memcached it must divide the 1 MiB slab page and -I, and be no larger than -I.
   */
  readonly slabChunkMax: number;
  /** -M: answer out-of-memory instead of evicting. */
  readonly noEvict: boolean;
  /** -A: allow the shutdown command. */
  readonly enableShutdown: boolean;
  /** -F: refuse flush_all. */
  readonly disableFlush: boolean;
  readonly verbosity: number;
  readonly growthFactor: number;
  readonly minChunkSize: number;
  readonly reqsPerEvent: number;
  readonly backlog: number;
  readonly hotLruPct: number;
  readonly warmLruPct: number;
  readonly temporaryTtl: number;
  /** -o lru_crawler / no_lru_crawler, lru_crawler_sleep (µs), lru_crawler_tocrawl (0 = all). */
  readonly lruCrawler: boolean;
  readonly lruCrawlerSleep: number;
  readonly lruCrawlerTocrawl: number;
  /** -o hot_max_factor / warm_max_factor: HOT and WARM items older than this times COLD's oldest move on. */
  readonly hotMaxFactor: number;
  readonly warmMaxFactor: number;
  /** -o slab_automove: 0 off, 1 or 2 on (pages move between classes as value sizes change). */
  readonly slabAutomove: number;
  /** Whether items with a TTL below `temporaryTtl` get their own LRU: memcached turns it on when temporary_ttl is given. */
  readonly temporaryLru: boolean;
  /** --aof: the persistence directory (manifest, base and log files); null = no persistence. */
  readonly aof: string | null;
  /**
   * --sync: "always" fsyncs every batch before its replies leave; "everysec" fsyncs in the
   * background every `syncPeriodMs` (1000, or the Go original's `-sync 2s` duration); "no"
   * leaves it to the kernel.
   */
  readonly sync: SyncPolicy;
  readonly syncPeriodMs: number;
  /** Initial size of the log's append buffer (the Go original's -buf-size). */
  readonly aofBufSize: number;
  /** Start on a corrupt log by keeping its longest valid prefix. */
  readonly fixCorrupted: boolean;
  /** Compact when the logs since the last base exceed this multiple of the live data... */
  readonly compactRatio: number;
  /** ...and this many bytes. */
  readonly compactMinSize: number;
  /** Seconds between scheduled snapshots (0: none). */
  readonly snapshotInterval: number;
  /** Write a snapshot when shutting down, so the next start replays nothing. */
  readonly snapshotOnShutdown: boolean;
  /**
   * -B: the protocols a connection may speak. "auto" picks one from the first byte of each
   * connection, as memcached does; -S forces "binary", -Y "ascii" (-Y wins when both are given).
   */
  readonly protocol: Protocol;
  /** -S: binary clients must authenticate with SASL PLAIN before any other command. */
  readonly sasl: boolean;
  /** MEMCACHED_SASL_PWDB: the file of `user:password` lines SASL checks, read at each authentication. */
  readonly saslPwdb: string | null;
  /**
   * -Y: the file of `user:password` lines a text connection must authenticate against (with a
   * `set` whose data is `user password`) before any command; implies -B ascii. Null: no auth.
   */
  readonly authFile: string | null;
  readonly logLevel: LogLevel;
  /** "stderr" or a file path. */
  readonly logDestination: string;
  /** -C off: items carry no CAS id (0 in every reply) and `cas` never matches. */
  readonly useCas: boolean;
  /** -P: file the pid is written to at start-up and removed from at exit. */
  readonly pidFile: string | null;
  /** -X off: `stats settings` shows dump_enabled no; refusing `stats cachedump` and `lru_crawler metadump` needs the text protocol (pending its split). */
  readonly dumpEnabled: boolean;
  /** -N: shown in `stats settings` only; Node cannot read a socket's NAPI id. */
  readonly napiIds: number;
  /** -o slab_reassign / no_slab_reassign: whether pages may move between classes at all. */
  readonly slabReassign: boolean;
  /** -o lru_maintainer / no_lru_maintainer: background LRU juggling and the segmented LRU. */
  readonly lruMaintainer: boolean;
  /** -o maxconns_fast / no_maxconns_fast: reject over-limit clients at once, or stop accepting until one leaves. */
  readonly maxconnsFast: boolean;
  /** -o hash_algorithm: shown in `stats settings`; the index always uses a seeded murmur3 (not observable by clients). */
  readonly hashAlgorithm: string;
  /** -o hashpower: initial hash table size as a power of two (0: memcached's default, 16). */
  readonly hashPowerInit: number;
  /** -o idle_timeout: seconds a client may stay idle before it is closed (0: never). */
  readonly idleTimeout: number;
  /** -o tail_repair_time: shown in `stats settings`; items are never refcount-stuck here. */
  readonly tailRepairTime: number;
  /** -o no_hashexpand: the index keeps its starting size (memcached: "dangerous"). */
  readonly hashExpand: boolean;
  /** -o slab_automove_ratio: automove's age ratio (see LruTuning.automoveRatio). */
  readonly slabAutomoveRatio: number;
  /** -o slab_automove_window, -o read_buf_mem_limit (bytes), -o watcher_logbuf_size (bytes):
   * shown in `stats settings`; our automove decides from one window, buffers are bounded per
   * connection, and there are no watchers. */
  readonly slabAutomoveWindow: number;
  readonly readBufMemLimit: number;
  readonly watcherLogbufSize: number;
  /** -o track_sizes: `stats sizes` on from the start. */
  readonly trackSizes: boolean;
  /** -Z: TLS on every TCP listener but `notls:` ones, with memcached's -o ssl_* settings. */
  readonly tls: TlsSettings;
}

/** ssl_min_version's values, as memcached prints them (its index is the number memcached takes). */
export const TLS_VERSIONS: readonly string[] = ["tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3"];

export interface TlsSettings {
  readonly enabled: boolean;
  /** ssl_chain_cert: the server's certificate chain, PEM. */
  readonly chainCert: string | null;
  /** ssl_key: its private key, PEM (may be in chainCert). */
  readonly key: string | null;
  /** ssl_ca_cert: CAs client certificates are checked against, PEM. */
  readonly caCert: string | null;
  /** ssl_verify_mode: 0 none, 1 request (a bad certificate fails), 2 require, 3 require once. */
  readonly verifyMode: number;
  /** ssl_min_version: 0 TLS 1.0, 1 TLS 1.1, 2 TLS 1.2, 3 TLS 1.3. */
  readonly minVersion: number;
  /** ssl_ciphers: an OpenSSL cipher list, or null for Node's default. */
  readonly ciphers: string | null;
  /** ssl_wbuf_size, in bytes: shown only (Node sizes its own TLS buffers). */
  readonly wbufSize: number;
}

export type SyncPolicy = "always" | "everysec" | "no";
export type Protocol = "auto" | "ascii" | "binary";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];

/** memcached's slab page: the unit of memory handed to a slab class. */
export const SLAB_PAGE_SIZE = 1024 * 1024;

export const DEFAULTS: Settings = Object.freeze({
  port: 11211,
  listen: [],
  udpPort: 0,
  socketPath: null,
  socketMask: 0o700,
  memoryLimit: 64 * 1024 * 1024,
  maxConnections: 1024,
  threads: 4,
  maxItemSize: 1024 * 1024,
  slabChunkMax: SLAB_PAGE_SIZE / 2,
  noEvict: false,
  enableShutdown: false,
  disableFlush: false,
  verbosity: 0,
  growthFactor: 1.25,
  minChunkSize: 48,
  reqsPerEvent: 20,
  backlog: 1024,
  hotLruPct: 20,
  warmLruPct: 40,
  temporaryTtl: 61,
  lruCrawler: true,
  lruCrawlerSleep: 100,
  lruCrawlerTocrawl: 0,
  temporaryLru: false,
  hotMaxFactor: 0.2,
  warmMaxFactor: 2.0,
  slabAutomove: 1,
  aof: null,
  sync: "everysec",
  syncPeriodMs: 1000,
  aofBufSize: 64 * 1024,
  fixCorrupted: false,
  compactRatio: 2,
  compactMinSize: 64 * 1024 * 1024,
  snapshotInterval: 0,
  snapshotOnShutdown: false,
  protocol: "auto",
  sasl: false,
  saslPwdb: null,
  authFile: null,
  logLevel: "warn",
  logDestination: "stderr",
  useCas: true,
  pidFile: null,
  dumpEnabled: true,
  napiIds: 0,
  slabReassign: true,
  lruMaintainer: true,
  maxconnsFast: true,
  hashAlgorithm: "murmur3",
  hashPowerInit: 0,
  idleTimeout: 0,
  tailRepairTime: 0,
  hashExpand: true,
  slabAutomoveRatio: 0.8,
  slabAutomoveWindow: 30,
  readBufMemLimit: 0,
  watcherLogbufSize: 256 * 1024,
  trackSizes: false,
  tls: Object.freeze({ enabled: false, chainCert: null, key: null, caCert: null, verifyMode: 0, minVersion: 2, ciphers: null, wbufSize: 16 * 1024 }),
});

/**
 * How many clients -c admits. memcached's -c is its file-descriptor limit, and its own
 * threads, listener and logger use some of it: 1.6.18 admits maxconns - 4 * threads - 8
 * clients (measured with -t 1, 2, 3, 4 and 8) and answers the next one
 * "ERROR Too many open connections". We admit the same number, so -c means the same.
 * With -o no_maxconns_fast memcached rejects nothing and accepts until accept() fails with
 * EMFILE, which is one fd later (its fast check is `fd >= maxconns - 1`): one client more.
 */
export function clientLimit(s: Settings): number {
  return s.maxConnections - 4 * s.threads - 8 + (s.maxconnsFast ? 0 : 1);
}

/**
 * How many connections memcached gives each UDP socket (num_threads_per_udp): one per worker
 * thread, or one when -l names several addresses. Each counts in curr_connections and takes a
 * file descriptor of -c.
 */
export function udpConnectionsPerSocket(s: Settings): number {
  return s.listen.length > 1 ? 1 : s.threads;
}

/** memcached's verbosity levels as log levels: -v errors and warnings, -vv requests, -vvv internals. */
export function levelForVerbosity(v: number): LogLevel {
  return v <= 0 ? "warn" : v === 1 ? "info" : v === 2 ? "debug" : "trace";
}
