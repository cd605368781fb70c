import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { DEFAULTS, LOG_LEVELS, TLS_VERSIONS, type LogLevel, SLAB_PAGE_SIZE, type Settings, clientLimit, levelForVerbosity } from "./settings.ts";
import { parseSize } from "./size.ts";
import { parseListenSpec } from "../server/listen-spec.ts";

/** A bad option or value: main prints the message on one line and exits non-zero. */
export class SettingsError extends Error {}

type Draft = { -readonly [K in keyof Settings]: Settings[K] } & { logLevelSet: boolean; protocolSet: boolean; slabChunkMaxSet: boolean; portSet: boolean };

interface OptionSpec {
  long: string;
  short?: string;
  /** Takes a value; otherwise a flag. */
  value?: string;
  help: string;
  /** Default as shown by --help. */
  shows?: (d: Settings) => string;
  apply: (d: Draft, v: string) => void;
  /** Applied by main rather than stored (help, version, config). */
  action?: true;
}

function int(name: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(v)) throw new SettingsError(`invalid value for ${name}: '${v}' is not a number`);
  const n = Number(v);
  if (n < min || n > max) throw new SettingsError(`invalid value for ${name}: ${n} is not in ${min}..${max}`);
  return n;
}

function positiveFloat(name: string, v: string): number {
  const f = Number(v);
  if (v.trim() === "" || !(f > 0) || !Number.isFinite(f)) throw new SettingsError(`invalid value for ${name}: '${v}' must be a number above 0`);
  return f;
}

function size(name: string, v: string, plainUnit: number): number {
  const n = parseSize(v, plainUnit);
  if (Number.isNaN(n)) throw new SettingsError(`invalid size for ${name}: '${v}' (use a number with b, k, m or g)`);
  return n;
}

function bool(name: string, v: string): boolean {
  if (v === "" || v === "true" || v === "yes" || v === "1") return true;
  if (v === "false" || v === "no" || v === "0") return false;
  throw new SettingsError(`invalid value for ${name}: '${v}' (expected true or false)`);
}

/** -l entries, `[notls:]host[:port]` as memcached takes them; repeated -l add to the list, as in memcached. */
function listenAddresses(v: string): string[] {
  const list = v.split(/[,;]/).map((s) => s.trim());
  for (const a of list) {
    const host = parseListenSpec(a)?.host ?? "";
    if (host === "" || !(isIP(host) !== 0 || host === "localhost" || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host) && /\./.test(host))) {
      throw new SettingsError(`invalid listen address '${a}': expected an IP address, 'localhost' or a dotted host name`);
    }
  }
  return list;
}

/** An option memcached has and we decline: refused with one line saying why and what to use. */
function refuse(message: string): (d: Draft, v: string) => void {
  return () => {
    throw new SettingsError(message);
  };
}

function nonEmpty(name: string, v: string): string {
  if (v.trim() === "") throw new SettingsError(`${name} needs a path`);
  return v;
}

/** --sync always|everysec|no, or the Go original's period (2s, 500ms; 0 = always). */
function syncPolicy(d: Draft, v: string): void {
  if (v === "always" || v === "everysec" || v === "no") {
    d.sync = v;
    d.syncPeriodMs = 1000;
    return;
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v.trim());
  if (m === null) throw new SettingsError(`invalid value for --sync: '${v}' (expected always, everysec, no or a period such as 2s)`);
  const ms = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000);
  if (ms === 0) {
    d.sync = "always";
    return;
  }
  if (ms < 10 || ms > 3_600_000) throw new SettingsError(`invalid value for --sync: '${v}' (a period from 10ms to 1h)`);
  d.sync = "everysec";
  d.syncPeriodMs = Math.round(ms);
}

/** The Go original's single-dash long flags, accepted as they were written there. */
const GO_FLAGS = new Set(["aof-name", "sync", "buf-size", "fix-corrupted", "cache-size", "max-item-size", "log-level", "log-destination"]);

function goFlag(arg: string): string {
  const m = /^-([a-z-]+)(=.*)?$/.exec(arg);
  return m !== null && GO_FLAGS.has(m[1]) ? `-${arg}` : arg;
}

/**
 * memcached's `-o no_modern` ("defaults of previous major version"), as memcached.c applies it:
 * no chunked items (unless slab_chunk_max was given), no page moves, the flat LRU without its
 * maintainer, no LRU crawler, no fast connection rejection, Jenkins hashing. Options given
 * after it override it, as in memcached.
 */
function noModern(d: Draft): void {
  if (!d.slabChunkMaxSet) d.slabChunkMax = SLAB_PAGE_SIZE;
  d.slabReassign = false;
  d.slabAutomove = 0;
  d.maxconnsFast = false;
  d.lruMaintainer = false;
  d.hashAlgorithm = "jenkins";
  d.lruCrawler = false;
}

/** The -o ssl_* options naming a file or list, and the TlsSettings field each sets. */
const TLS_PATHS = { ssl_chain_cert: "chainCert", ssl_key: "key", ssl_ca_cert: "caCert", ssl_ciphers: "ciphers" } as const;

/** memcached's -o extended options we understand; others are refused by name. */
function extended(d: Draft, v: string): void {
  for (const item of v.split(",")) {
    const [key, val = ""] = item.split("=", 2).map((s) => s.trim());
    switch (key) {
      case "":
      case "relaxed_privileges":
      case "drop_privileges": // memcached's seccomp sandbox; Node has none to turn on or off
      case "no_drop_privileges":
      case "inline_ascii_resp": // these three memcached 1.6.18 accepts and does nothing with
      case "no_inline_ascii_resp":
      case "resp_obj_mem_limit":
      case "modern": // memcached 1.6.18: "enables options which will be default in future. currently: nothing"
        break;
      case "no_modern":
        noModern(d);
        break;
      case "no_chunked_items":
        d.slabChunkMax = SLAB_PAGE_SIZE;
        break;
      case "no_hashexpand":
        d.hashExpand = false;
        break;
      case "no_slab_automove":
        d.slabAutomove = 0;
        break;
      case "slab_automove_ratio":
        d.slabAutomoveRatio = positiveFloat(key, val);
        break;
      case "slab_automove_window":
        d.slabAutomoveWindow = int(key, val, 1, 0xffff_ffff);
        break;
      case "read_buf_mem_limit":
        d.readBufMemLimit = int(key, val, 0, 0xffff_ffff) * 1024 * 1024;
        break;
      case "watcher_logbuf_size":
        d.watcherLogbufSize = int(key, val, 1, 0x3f_ffff) * 1024;
        break;
      case "track_sizes":
        d.trackSizes = true;
        break;
      case "ssl_wbuf_size":
        d.tls = { ...d.tls, wbufSize: int(key, val, 1, 0x3f_ffff) * 1024 };
        break;
      case "ssl_keyformat":
        if (val !== "1") throw new SettingsError("ssl_keyformat: only 1 (PEM) is supported");
        break;
      case "worker_logbuf_size":
        throw new SettingsError("extended option 'worker_logbuf_size' is not supported (memcached 1.6.18 also reads its value as slab_sizes)");
      case "slab_sizes":
        throw new SettingsError("extended option 'slab_sizes' is not supported: the classes come from -n, -f and slab_chunk_max");
      case "sock_cookie_id":
        throw new SettingsError("extended option 'sock_cookie_id' is not supported: Node cannot set SO_MARK on a socket");
      case "ssl_session_cache":
      case "ssl_kernel_tls":
        throw new SettingsError(`extended option '${key}' is not supported: Node's tls does not expose it`);
      case "lru_maintainer":
      case "no_lru_maintainer":
        d.lruMaintainer = key === "lru_maintainer";
        break;
      case "slab_reassign":
      case "no_slab_reassign":
        d.slabReassign = key === "slab_reassign";
        break;
      case "maxconns_fast":
      case "no_maxconns_fast":
        d.maxconnsFast = key === "maxconns_fast";
        break;
      case "hashpower": {
        if (val === "") throw new SettingsError("Missing numeric argument for hashpower");
        const n = int(key, val, 0);
        if (n < 12) throw new SettingsError(`Initial hashtable multiplier of ${n} is too low`);
        if (n > 32) throw new SettingsError(`Initial hashtable multiplier of ${n} is too high`);
        // Bucket numbers are int32 here (the index masks hashes with 32-bit bitwise operators).
        if (n === 32) throw new SettingsError("Initial hashtable multiplier of 32 is too high for memcached-ts: at most 31 (2^31 buckets)");
        d.hashPowerInit = n;
        break;
      }
      case "idle_timeout":
        if (val === "") throw new SettingsError("Missing numeric argument for idle_timeout");
        d.idleTimeout = int(key, val, 0);
        break;
      case "tail_repair_time":
        if (val === "") throw new SettingsError("Missing numeric argument for tail_repair_time");
        d.tailRepairTime = int(key, val, 0);
        if (d.tailRepairTime < 10) throw new SettingsError("Cannot set tail_repair_time to less than 10 seconds");
        break;
      case "hash_algorithm":
        if (val === "") throw new SettingsError("Missing hash_algorithm argument");
        if (val !== "jenkins" && val !== "murmur3" && val !== "xxh3") throw new SettingsError("Unknown hash_algorithm option (jenkins, murmur3, xxh3)");
        d.hashAlgorithm = val;
        break;
      // memcached refuses 80 itself ("must be > 1 and < 80", though 1 passes).
      case "hot_lru_pct":
        d.hotLruPct = int(key, val, 1, 79);
        break;
      case "warm_lru_pct":
        d.warmLruPct = int(key, val, 1, 79);
        break;
      case "temporary_ttl":
        d.temporaryTtl = int(key, val, 0);
        d.temporaryLru = true;
        break;
      case "lru_crawler":
      case "no_lru_crawler":
        d.lruCrawler = key === "lru_crawler";
        break;
      case "lru_crawler_sleep":
        d.lruCrawlerSleep = int(key, val, 0, 1_000_000);
        break;
      case "lru_crawler_tocrawl":
        d.lruCrawlerTocrawl = int(key, val, 0, 0xffff_ffff);
        break;
      case "slab_chunk_max":
        // Bytes, although memcached's --help says kilobytes: its parser reads a plain integer.
        d.slabChunkMax = int(key, val, 1, SLAB_PAGE_SIZE);
        d.slabChunkMaxSet = true;
        break;
      case "hot_max_factor":
        d.hotMaxFactor = positiveFloat(key, val);
        break;
      case "warm_max_factor":
        d.warmMaxFactor = positiveFloat(key, val);
        break;
      case "slab_automove":
        d.slabAutomove = int(key, val, 0, 2);
        break;
      case "ssl_chain_cert":
      case "ssl_key":
      case "ssl_ca_cert":
      case "ssl_ciphers":
        if (val === "") throw new SettingsError(`Missing ${key} argument`);
        d.tls = { ...d.tls, [TLS_PATHS[key]]: val };
        break;
      case "ssl_verify_mode":
        if (val === "") throw new SettingsError("Missing ssl_verify_mode argument");
        if (!/^[0-3]$/.test(val)) throw new SettingsError("Invalid ssl_verify_mode. Use help to see valid options.");
        d.tls = { ...d.tls, verifyMode: Number(val) };
        break;
      case "ssl_min_version": {
        if (val === "") throw new SettingsError("Missing ssl_min_version argument");
        // memcached takes 0..3; the names it prints are accepted too.
        const v = TLS_VERSIONS.indexOf(val.toLowerCase());
        if (!/^[0-3]$/.test(val) && v < 0) throw new SettingsError("Invalid ssl_min_version. Use help to see valid options.");
        d.tls = { ...d.tls, minVersion: v >= 0 ? v : Number(val) };
        break;
      }
      default:
        if (key.startsWith("ext_")) {
          throw new SettingsError(`extended option '${key}' is not supported: memcached-ts has no external storage (extstore); use --aof for a cache that survives restarts`);
        }
        throw new SettingsError(`Illegal suboption "${key}"`);
    }
  }
}

const OPTION_TABLE = [
  { long: "port", short: "p", value: "NUM", help: "TCP port to listen on (0 = any free port; -U without -p uses the UDP port, as memcached)", shows: (d) => String(d.port), apply: (d, v) => {
    d.port = int("--port", v, 0, 65535);
    d.portSet = true;
  } },
  { long: "listen", short: "l", value: "ADDR", help: "interfaces to listen on, [notls:]HOST[:PORT], comma separated; repeatable", shows: () => "all interfaces", apply: (d, v) => {
    // memcached skips a -l whose text already occurs in the list so far (a substring test, kept as is).
    if (!d.listen.join(",").includes(v)) d.listen = [...d.listen, ...listenAddresses(v)];
  } },
  { long: "udp-port", short: "U", value: "NUM", help: "UDP port to listen on, 0 = off; a -l entry's own port wins. Off by default: a spoofed request can make a UDP server send large replies to a victim", shows: (d) => String(d.udpPort), apply: (d, v) => (d.udpPort = int("--udp-port", v, 0, 65535)) },
  { long: "unix-socket", short: "s", value: "FILE", help: "unix socket path to listen on (disables TCP)", shows: () => "off", apply: (d, v) => (d.socketPath = v) },
  { long: "unix-mask", short: "a", value: "MASK", help: "access mask for the unix socket, in octal", shows: (d) => d.socketMask.toString(8), apply: (d, v) => {
    if (!/^[0-7]{1,4}$/.test(v)) throw new SettingsError(`invalid value for --unix-mask: '${v}' is not an octal mask`);
    d.socketMask = parseInt(v, 8);
  } },
  { long: "memory-limit", short: "m", value: "SIZE", help: "item memory in megabytes, or a size with b/k/m/g", shows: (d) => `${d.memoryLimit / 1048576}m`, apply: (d, v) => (d.memoryLimit = size("--memory-limit", v, 1024 * 1024)) },
  { long: "cache-size", value: "SIZE", help: "alias of --memory-limit taking a size (Go original)", apply: (d, v) => (d.memoryLimit = size("--cache-size", v, 1)) },
  { long: "conn-limit", short: "c", value: "NUM", help: "connection limit as in memcached: 4 per thread and 8 more are reserved, the rest admit clients", shows: (d) => String(d.maxConnections), apply: (d, v) => (d.maxConnections = int("--conn-limit", v, 1)) },
  { long: "threads", short: "t", value: "NUM", help: "number of threads: accepted, and counted in -c's reserve as memcached does, but requests are served by one thread for now", shows: (d) => String(d.threads), apply: (d, v) => (d.threads = int("--threads", v, 1, 1024)) },
  { long: "max-item-size", short: "I", value: "SIZE", help: "largest item (1k..1024m); below 512k also set -o slab_chunk_max", shows: (d) => `${d.maxItemSize / 1024}k`, apply: (d, v) => {
    const n = size("--max-item-size", v, 1);
    if (n < 1024) throw new SettingsError("item max size cannot be less than 1024 bytes");
    if (n > 1024 * 1024 * 1024) throw new SettingsError("cannot set item size limit higher than 1024m");
    d.maxItemSize = n;
  } },
  { long: "disable-evictions", short: "M", help: "return an error when memory is full instead of evicting", shows: () => "off", apply: (d, v) => (d.noEvict = bool("--disable-evictions", v)) },
  { long: "enable-shutdown", short: "A", help: "enable the shutdown command", shows: () => "off", apply: (d, v) => (d.enableShutdown = bool("--enable-shutdown", v)) },
  { long: "disable-flush", short: "F", help: "refuse flush_all", shows: () => "off", apply: (d, v) => (d.disableFlush = bool("--disable-flush", v)) },
  { long: "verbose", short: "v", help: "verbose logs; -vv and -vvv for more", shows: () => "0", apply: (d) => d.verbosity++ },
  { long: "slab-growth-factor", short: "f", value: "FACTOR", help: "chunk size growth factor", shows: (d) => String(d.growthFactor), apply: (d, v) => {
    const f = Number(v);
    if (!(f > 1)) throw new SettingsError("factor must be greater than 1");
    d.growthFactor = f;
  } },
  { long: "slab-min-size", short: "n", value: "BYTES", help: "minimum space for key, value and flags", shows: (d) => String(d.minChunkSize), apply: (d, v) => (d.minChunkSize = int("--slab-min-size", v, 1)) },
  { long: "max-reqs-per-event", short: "R", value: "NUM", help: "requests handled per read event before yielding", shows: (d) => String(d.reqsPerEvent), apply: (d, v) => (d.reqsPerEvent = int("--max-reqs-per-event", v, 1)) },
  { long: "listen-backlog", short: "b", value: "NUM", help: "TCP listen backlog", shows: (d) => String(d.backlog), apply: (d, v) => (d.backlog = int("--listen-backlog", v, 1)) },
  { long: "extended", short: "o", value: "OPTS", help: "extended options: hot_lru_pct=PCT, warm_lru_pct=PCT, hot_max_factor=F, warm_max_factor=F, temporary_ttl=SECONDS (turns on the TEMP LRU), slab_chunk_max=BYTES (divides 1 MiB and -I), slab_automove=0|1|2, lru_crawler, no_lru_crawler, lru_crawler_sleep=US, lru_crawler_tocrawl=N, lru_maintainer, no_lru_maintainer (flat LRU), slab_reassign, no_slab_reassign, maxconns_fast, no_maxconns_fast, hashpower=12..32, idle_timeout=SECONDS, tail_repair_time=SECONDS, hash_algorithm=NAME, modern, no_modern (1.4 defaults: no chunked items, flat LRU, no crawler, no page moves), relaxed_privileges; ext_* is refused (no extstore)", apply: extended },
  { long: "disable-cas", short: "C", help: "disable CAS: every CAS id is 0 and the cas command never matches", shows: () => "off", apply: (d, v) => (d.useCas = !bool("--disable-cas", v)) },
  { long: "pidfile", short: "P", value: "FILE", help: "write the pid to FILE at start-up, remove it at exit", shows: () => "off", apply: (d, v) => (d.pidFile = nonEmpty("--pidfile", v)) },
  { long: "disable-dumping", short: "X", help: "disable dumping: stats cachedump and lru_crawler metadump are refused", shows: () => "off", apply: (d, v) => (d.dumpEnabled = !bool("--disable-dumping", v)) },
  { long: "disable-watch", short: "W", help: "accepted: there are no watch commands to disable", apply: () => {} },
  { long: "napi_ids", short: "N", value: "NUM", help: "accepted and shown in stats settings (Node cannot read a socket's NAPI id)", shows: (d) => String(d.napiIds), apply: (d, v) => {
    if (!(Number.parseInt(v, 10) > 0)) throw new SettingsError("Maximum number of NAPI IDs must be greater than 0");
    d.napiIds = int("--napi_ids", v, 1);
  } },
  { long: "daemon", short: "d", help: "not supported: run under a service manager (contrib/memcached-ts.service)", apply: refuse("-d (daemon) is not supported: Node cannot fork; run memcached-ts under a service manager (see contrib/memcached-ts.service) or with nohup") },
  { long: "lock-memory", short: "k", help: "not supported (Node cannot mlockall)", apply: refuse("-k (lock memory) is not supported: Node has no mlockall; use the service manager's memory locking (systemd LimitMEMLOCK) or swap off") },
  { long: "enable-largepages", short: "L", help: "accepted: item memory is always on transparent huge pages where the system allows (GLIBC_TUNABLES=glibc.malloc.hugetlb=0 keeps 4 KiB pages)", apply: () => {} },
  { long: "memory-file", short: "e", value: "FILE", help: "not supported: use --aof for a restartable cache", apply: refuse("-e (memory file) is not supported: use --aof DIR for a cache that survives restarts") },
  { long: "enable-ssl", short: "Z", help: "TLS on every TCP listener except 'notls:' ones (-o ssl_chain_cert=FILE,ssl_key=FILE,ssl_ca_cert=FILE,ssl_verify_mode=0..3,ssl_min_version=0..3,ssl_ciphers=LIST)", shows: () => "off", apply: (d, v) => (d.tls = { ...d.tls, enabled: bool("--enable-ssl", v) }) },
  { long: "protocol", short: "B", value: "NAME", help: "protocol: auto (negotiated per connection), ascii or binary", shows: () => "auto", apply: (d, v) => {
    if (v !== "auto" && v !== "ascii" && v !== "binary") {
      throw new SettingsError(`Invalid value for binding protocol: ${v}\n -- should be one of auto, binary, or ascii`);
    }
    d.protocol = v;
    d.protocolSet = true;
  } },
  { long: "enable-sasl", short: "S", help: "require SASL PLAIN authentication (binary protocol only; users from the MEMCACHED_SASL_PWDB file)", shows: () => "off", apply: (d, v) => (d.sasl = bool("--enable-sasl", v)) },
  { long: "auth-file", short: "Y", value: "FILE", help: "require ASCII authentication: a first `set <key> <flags> <exptime> <bytes>` whose data is `<user> <password>`, checked against FILE's `user:password` lines (at most 8; SIGHUP reloads it); implies -B ascii", shows: () => "off", apply: (d, v) => (d.authFile = v) },
  { long: "user", short: "u", value: "USER", help: "accepted and ignored (memcached drops root privileges)", apply: () => {} },
  { long: "aof", value: "DIR", help: "turn persistence on: the directory for the log, base snapshots and manifest (created if missing)", shows: () => "off", apply: (d, v) => (d.aof = nonEmpty("--aof", v)) },
  { long: "aof-name", value: "DIR", help: "alias of --aof (Go original)", apply: (d, v) => (d.aof = nonEmpty("--aof-name", v)) },
  { long: "sync", value: "POLICY", help: "when the log is fsynced: always (before replies), everysec, no (the kernel decides), or a period such as 2s or 500ms", shows: (d) => d.sync, apply: syncPolicy },
  { long: "buf-size", value: "SIZE", help: "initial size of the log's append buffer (Go original)", shows: (d) => `${d.aofBufSize / 1024}k`, apply: (d, v) => (d.aofBufSize = Math.max(4096, size("--buf-size", v, 1))) },
  { long: "fix-corrupted", help: "start on a log damaged in the middle by keeping its longest valid prefix (records after the damage are lost)", shows: () => "off", apply: (d, v) => (d.fixCorrupted = bool("--fix-corrupted", v)) },
  { long: "compact-ratio", value: "FACTOR", help: "compact when the log exceeds this multiple of the live data", shows: (d) => String(d.compactRatio), apply: (d, v) => (d.compactRatio = positiveFloat("--compact-ratio", v)) },
  { long: "compact-min-size", value: "SIZE", help: "never compact a log smaller than this", shows: (d) => `${d.compactMinSize / 1048576}m`, apply: (d, v) => (d.compactMinSize = size("--compact-min-size", v, 1)) },
  { long: "snapshot-interval", value: "SECONDS", help: "write a snapshot (and start a fresh log) this often when anything changed; 0 = only when the log is large", shows: (d) => String(d.snapshotInterval), apply: (d, v) => (d.snapshotInterval = int("--snapshot-interval", v, 0, 365 * 24 * 3600)) },
  { long: "snapshot-on-shutdown", help: "write a snapshot on SIGTERM/SIGINT/shutdown, so the next start replays no log", shows: () => "off", apply: (d, v) => (d.snapshotOnShutdown = bool("--snapshot-on-shutdown", v)) },
  { long: "log-level", value: "LEVEL", help: `log level: ${LOG_LEVELS.join(", ")}`, shows: (d) => d.logLevel, apply: (d, v) => {
    if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new SettingsError(`invalid --log-level '${v}': expected one of ${LOG_LEVELS.join(", ")}`);
    d.logLevel = v as LogLevel;
    d.logLevelSet = true;
  } },
  { long: "log-destination", value: "FILE", help: "where logs go: 'stderr' or a file path", shows: (d) => d.logDestination, apply: (d, v) => (d.logDestination = v) },
  { long: "config", value: "FILE", help: "JSON file of long option names to values; flags override it", action: true, apply: () => {} },
  { long: "help", short: "h", help: "print this help and exit", action: true, apply: () => {} },
  { long: "version", short: "V", help: "print the version and exit", action: true, apply: () => {} },
] as const satisfies readonly OptionSpec[];
const OPTIONS: readonly OptionSpec[] = OPTION_TABLE;

/** Every long option name; the library's options are these in camelCase. */
export type OptionName = (typeof OPTION_TABLE)[number]["long"];
/** Options that take a value (the others are on/off flags). */
export type ValueOptionName = Extract<(typeof OPTION_TABLE)[number], { value: string }>["long"];

export type CliResult = { kind: "run"; settings: Settings } | { kind: "help"; text: string } | { kind: "version" };

/**
 * Parses argv (without node and script) into frozen Settings: defaults < --config file < flags.
 * `env` supplies MEMCACHED_SASL_PWDB, the one setting memcached takes from the environment.
 */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): CliResult {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple: boolean }> = {};
  for (const o of OPTIONS) {
    options[o.long] = { type: o.value !== undefined ? "string" : "boolean", multiple: true };
    if (o.short !== undefined) options[o.long].short = o.short;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv.map(goFlag), options, allowPositionals: false, strict: true, tokens: true });
  } catch (err) {
    throw new SettingsError((err as Error).message.split("\n")[0]);
  }
  const flags = parsed.tokens.filter((t) => t.kind === "option");
  if (flags.some((t) => t.name === "help")) return { kind: "help", text: helpText() };
  if (flags.some((t) => t.name === "version")) return { kind: "version" };

  const draft: Draft = { ...DEFAULTS, listen: [...DEFAULTS.listen], logLevelSet: false, protocolSet: false, slabChunkMaxSet: false, portSet: false, saslPwdb: env.MEMCACHED_SASL_PWDB ?? null };
  const configs = flags.filter((t) => t.name === "config");
  for (const c of configs) applyConfigFile(draft, c.value ?? "");
  for (const t of flags) {
    const spec = OPTIONS.find((o) => o.long === t.name);
    if (spec === undefined || spec.action) continue;
    spec.apply(draft, t.value ?? "");
  }
  if (draft.warmLruPct + draft.hotLruPct > 80) throw new SettingsError("hot_lru_pct + warm_lru_pct cannot be more than 80% combined");
  if (draft.maxItemSize > draft.memoryLimit / 2) {
    throw new SettingsError("cannot set item size limit higher than 1/2 of memory max");
  }
  checkSlabChunkMax(draft);
  if (draft.sasl) {
    // memcached's words: SASL exists only in the binary protocol.
    if (draft.protocolSet && draft.protocol !== "binary") throw new SettingsError("ERROR: You cannot allow the ASCII protocol while using SASL.");
    draft.protocol = "binary";
    if (draft.udpPort !== 0) throw new SettingsError("ERROR: Cannot enable UDP while using binary SASL authentication.");
  }
  if (draft.authFile !== null) {
    // Checked after -S, as memcached does: -S -Y without -B ends up ASCII with the auth file.
    if (draft.protocolSet && draft.protocol !== "ascii") throw new SettingsError("ERROR: You cannot allow the BINARY protocol while using ascii authentication tokens.");
    draft.protocol = "ascii";
  }
  // memcached: -U without -p moves the TCP port too.
  if (draft.udpPort !== 0 && !draft.portSet) draft.port = draft.udpPort;
  if (draft.listen.some((l) => l.startsWith("notls:")) && !draft.tls.enabled) throw new SettingsError("'notls' option is valid only when SSL is enabled");
  if (draft.tls.enabled && draft.tls.chainCert === null) throw new SettingsError("-Z needs a certificate: -o ssl_chain_cert=FILE (and ssl_key=FILE unless the key is in it)");
  if (draft.napiIds > draft.threads) {
    throw new SettingsError(`Number of napi_ids(${draft.napiIds}) cannot be greater than number of threads(${draft.threads})`);
  }
  if (clientLimit(draft) < 1) {
    throw new SettingsError(`--conn-limit ${draft.maxConnections} leaves no room for clients: like memcached, ${4 * draft.threads + 8} of it are reserved with ${draft.threads} threads`);
  }
  if (!draft.logLevelSet && draft.verbosity > 0) draft.logLevel = levelForVerbosity(draft.verbosity);
  const { logLevelSet: _unused, protocolSet: _unused2, slabChunkMaxSet: _unused3, portSet: _unused4, ...settings } = draft;
  return { kind: "run", settings: Object.freeze(settings) };
}

/** memcached's start-up checks tying slab_chunk_max to -I and the slab page. */
function checkSlabChunkMax(d: Draft): void {
  const chunk = d.slabChunkMax;
  if (chunk > d.maxItemSize) {
    throw new SettingsError(`slab_chunk_max (bytes: ${chunk}) cannot be larger than -I (item_size_max ${d.maxItemSize}); lower it with -o slab_chunk_max=BYTES`);
  }
  if (d.maxItemSize % chunk !== 0) {
    throw new SettingsError(`-I (item_size_max: ${d.maxItemSize}) must be evenly divisible by slab_chunk_max (bytes: ${chunk})`);
  }
  if (SLAB_PAGE_SIZE % chunk !== 0) {
    throw new SettingsError(`slab_chunk_max (bytes: ${chunk}) must divide evenly into ${SLAB_PAGE_SIZE} (slab_page_size)`);
  }
}

function applyConfigFile(d: Draft, path: string): void {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new SettingsError(`cannot read config file ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new SettingsError(`config file ${path} must hold a JSON object of option names to values`);
  }
  for (const [key, value] of Object.entries(data)) {
    const spec = OPTIONS.find((o) => o.long === key);
    if (spec === undefined || spec.action) throw new SettingsError(`unknown option '${key}' in config file ${path}`);
    // Checked first for every option: String() of an object can throw (`{"toString": false}`).
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new SettingsError(`invalid value for '${key}' in config file ${path}`);
    }
    const text = String(value);
    if (spec.long === "verbose") {
      d.verbosity = int("verbose", text, 0, 3);
      continue;
    }
    if (spec.value === undefined && !bool(key, text)) continue;
    spec.apply(d, text);
  }
}

export function helpText(): string {
  const lines = ["Usage: memcached-ts [options]", "", "A memcached-compatible server. Options (defaults in brackets):"];
  for (const o of OPTIONS) {
    const names = `${o.short !== undefined ? `-${o.short}, ` : "    "}--${o.long}${o.value !== undefined ? ` <${o.value}>` : ""}`;
    const def = o.shows !== undefined ? ` [${o.shows(DEFAULTS)}]` : "";
    lines.push(`  ${names.padEnd(34)} ${o.help}${def}`);
  }
  return lines.join("\n") + "\n";
}
