import { persistenceStats } from "./persistence-stats.ts";
import { TLS_VERSIONS, udpConnectionsPerSocket } from "../settings/settings.ts";
import type { ServerContext } from "../server/context.ts";
import type { OutBuffer } from "../protocol/out-buffer.ts";
import { MEMCACHED_VERSION, VERSION } from "../version.ts";
import { Seg } from "../store/arena.ts";
import { SLAB_COUNTERS } from "../store/cache.ts";
import { C, CLASS_COUNTERS } from "../store/class-stats.ts";
import { PAGE_SIZE } from "../store/slab-classes.ts";
import { SlabEngine } from "../store/slab-engine.ts";

export type Stat = readonly [name: string, value: string | number];

function when(on: boolean, stats: Stat[]): Stat[] {
  return on ? stats : [];
}

function seconds(us: number): string {
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
}

/** `stats`: memcached's general statistics, in memcached's order and names. */
function general(ctx: ServerContext): Stat[] {
  const c = ctx.counters;
  const cache = ctx.cache;
  const e = cache.engine;
  const now = cache.now();
  const ru = process.resourceUsage();
  const s = ctx.settings;
  return [
    ["pid", process.pid],
    ["uptime", now - ctx.startedAt],
    ["time", now],
    ["version", MEMCACHED_VERSION],
    ["libevent", `node-${process.versions.node}`],
    ["pointer_size", 64],
    ["rusage_user", seconds(ru.userCPUTime)],
    ["rusage_system", seconds(ru.systemCPUTime)],
    ["max_connections", s.maxConnections],
    ["curr_connections", c.currConnections],
    ["total_connections", c.totalConnections],
    // memcached prints the lines of features that are on, only.
    ...when(s.maxconnsFast, [["rejected_connections", c.rejectedConnections]]),
    ["connection_structures", c.currConnections],
    ["response_obj_oom", 0],
    ["response_obj_count", 1],
    ["response_obj_bytes", 16384],
    ["read_buf_count", 2],
    ["read_buf_bytes", 32768],
    ["read_buf_bytes_free", 0],
    ["read_buf_oom", 0],
    // memcached's thread.c reserves five descriptors per worker thread (event base and notify pipe).
    ["reserved_fds", 5 * s.threads],
    ["cmd_get", c.cmdGet],
    ["cmd_set", c.cmdSet],
    ["cmd_flush", c.cmdFlush],
    ["cmd_touch", c.cmdTouch],
    ["cmd_meta", c.cmdMeta],
    ["get_hits", c.getHits],
    ["get_misses", c.getMisses],
    ["get_expired", c.getExpired],
    ["get_flushed", c.getFlushed],
    ["delete_misses", c.deleteMisses],
    ["delete_hits", c.deleteHits],
    ["incr_misses", c.incrMisses],
    ["incr_hits", c.incrHits],
    ["decr_misses", c.decrMisses],
    ["decr_hits", c.decrHits],
    ["cas_misses", c.casMisses],
    ["cas_hits", c.casHits],
    ["cas_badval", c.casBadval],
    ["touch_hits", c.touchHits],
    ["touch_misses", c.touchMisses],
    ["store_too_large", c.storeTooLarge],
    ["store_no_memory", c.storeNoMemory],
    ["auth_cmds", c.authCmds],
    ["auth_errors", c.authErrors],
    ...when(s.idleTimeout !== 0, [["idle_kicks", c.idleKicks]]),
    ["bytes_read", c.bytesRead],
    ["bytes_written", c.bytesWritten],
    ["limit_maxbytes", e.limitBytes],
    ["accepting_conns", ctx.acceptQueue?.accepting === false ? 0 : 1],
    ["listen_disabled_num", c.listenDisabledNum],
    ["time_in_listen_disabled_us", ctx.acceptQueue?.disabledMicros ?? 0],
    ["threads", s.threads],
    ["conn_yields", c.connYields],
    ["hash_power_level", ctx.engine.index.power],
    ["hash_bytes", ctx.engine.index.bytes],
    ["hash_is_expanding", ctx.engine.index.expanding ? 1 : 0],
    ...when(s.slabReassign, [
      ["slab_reassign_rescues", e.stats.slabReassignRescues],
      ["slab_reassign_chunk_rescues", e.stats.slabReassignChunkRescues],
      ["slab_reassign_evictions_nomem", e.stats.slabReassignEvictionsNomem],
      ["slab_reassign_inline_reclaim", 0],
      ["slab_reassign_busy_items", 0],
      ["slab_reassign_busy_deletes", 0],
      ["slab_reassign_running", ctx.engine.drainingPage !== 0 ? 1 : 0],
      ["slabs_moved", e.stats.slabsMoved],
    ]),
    ...when(ctx.crawler.enabled, [
      ["lru_crawler_running", ctx.crawler.running ? 1 : 0],
      ["lru_crawler_starts", ctx.crawler.starts],
    ]),
    ...when(s.lruMaintainer, [["lru_maintainer_juggles", e.stats.lruMaintainerJuggles]]),
    ["malloc_fails", 0],
    ["log_worker_dropped", 0],
    ["log_worker_written", 0],
    ["log_watcher_skipped", 0],
    ["log_watcher_sent", 0],
    ["log_watchers", 0],
    ["unexpected_napi_ids", 0],
    ["round_robin_fallback", 0],
    ["bytes", e.bytes()],
    ["curr_items", e.count()],
    ["total_items", e.stats.totalItems],
    ["slab_global_page_pool", 0],
    ["expired_unfetched", e.stats.expiredUnfetched],
    ["evicted_unfetched", e.stats.evictedUnfetched],
    ...when(s.lruMaintainer, [["evicted_active", e.stats.evictedActive]]),
    ["evictions", e.stats.evictions],
    ["reclaimed", e.stats.reclaimed],
    ["crawler_reclaimed", classTotal(ctx, C.crawler_reclaimed)],
    ["crawler_items_checked", classTotal(ctx, C.crawler_items_checked)],
    ["lrutail_reflocked", 0],
    ...when(s.lruMaintainer, [
      ["moves_to_cold", e.stats.movesToCold],
      ["moves_to_warm", e.stats.movesToWarm],
      ["moves_within_lru", e.stats.movesWithinLru],
      ["direct_reclaims", e.stats.directReclaims],
      ["lru_bumps_dropped", e.stats.lruBumpsDropped],
    ]),
    ...(ctx.tls === null ? [] : [
      ["ssl_handshake_errors", c.sslHandshakeErrors],
      ["time_since_server_cert_refresh", now - ctx.tls.loadedAt],
    ] satisfies Stat[]),
  ];
}

/**
 * `stats memcached_ts`: what only memcached-ts has, in a group of its own so the general one
 * stays exactly memcached's (its own tests count the keys of `stats`).
 */
function ours(ctx: ServerContext): Stat[] {
  return [["version", VERSION], ["node_version", process.versions.node], ...ctx.loopDelay.stats()];
}

/**
 * `stats settings`: exactly memcached 1.6.18's names in its order. Values come from our
 * Settings where we have the setting; the rest are memcached's defaults, which describe what
 * we do (no SASL, no TLS, no extstore). Options we accept and ignore (hashpower, idle_timeout,
 * lru_crawler_sleep, ...) still show memcached's defaults.
 */
function settings(ctx: ServerContext): Stat[] {
  const s = ctx.settings;
  // The LRU and page-move settings can change at run time (`lru`, `slabs automove`).
  const lru = ctx.engine.tuning;
  const yes = (b: boolean) => (b ? "yes" : "no");
  return [
    ["maxbytes", ctx.cache.engine.limitBytes],
    ["maxconns", s.maxConnections],
    ["tcpport", s.port],
    ["udpport", s.udpPort],
    ["inter", s.listen.length === 0 ? "NULL" : s.listen.join(",")],
    ["verbosity", ctx.verbosity],
    ["oldest", 0],
    ["evictions", s.noEvict ? "off" : "on"],
    ["domain_socket", s.socketPath ?? "NULL"],
    ["umask", s.socketMask.toString(8)],
    ["shutdown_command", yes(s.enableShutdown)],
    ["growth_factor", s.growthFactor.toFixed(2)],
    ["chunk_size", s.minChunkSize],
    ["num_threads", s.threads],
    ["num_threads_per_udp", udpConnectionsPerSocket(s)],
    ["stat_key_prefix", ":"],
    ["detail_enabled", yes(ctx.prefixStats.enabled)],
    ["reqs_per_event", s.reqsPerEvent],
    ["cas_enabled", yes(s.useCas)],
    ["tcp_backlog", s.backlog],
    ["binding_protocol", s.protocol === "auto" ? "auto-negotiate" : s.protocol],
    ["auth_enabled_sasl", yes(s.sasl)],
    ["auth_enabled_ascii", s.authFile ?? "no"],
    ["item_size_max", s.maxItemSize],
    ["maxconns_fast", yes(s.maxconnsFast)],
    ["hashpower_init", s.hashPowerInit],
    ["slab_reassign", yes(s.slabReassign)],
    ["slab_automove", lru.automove],
    ["slab_automove_ratio", lru.automoveRatio.toFixed(2)],
    ["slab_automove_window", s.slabAutomoveWindow],
    ["slab_chunk_max", s.slabChunkMax],
    ["lru_crawler", yes(ctx.crawler.enabled)],
    ["lru_crawler_sleep", ctx.crawler.sleep],
    ["lru_crawler_tocrawl", ctx.crawler.tocrawl],
    ["tail_repair_time", s.tailRepairTime],
    ["flush_enabled", yes(!s.disableFlush)],
    ["dump_enabled", yes(s.dumpEnabled)],
    ["hash_algorithm", s.hashAlgorithm],
    ["lru_maintainer_thread", yes(s.lruMaintainer)],
    ["lru_segmented", yes(lru.segmented)],
    ["hot_lru_pct", lru.hotLruPct],
    ["warm_lru_pct", lru.warmLruPct],
    ["hot_max_factor", lru.hotMaxFactor.toFixed(2)],
    ["warm_max_factor", lru.warmMaxFactor.toFixed(2)],
    ["temp_lru", yes(lru.tempLru)],
    ["temporary_ttl", lru.temporaryTtl],
    ["idle_timeout", s.idleTimeout],
    ["watcher_logbuf_size", s.watcherLogbufSize],
    ["worker_logbuf_size", 65536],
    ["read_buf_mem_limit", s.readBufMemLimit],
    ["track_sizes", yes(s.trackSizes)],
    ["inline_ascii_response", "no"],
    ["ext_item_size", 512],
    ["ext_item_age", 4294967295],
    ["ext_low_ttl", 0],
    ["ext_recache_rate", 2000],
    ["ext_wbuf_size", 4194304],
    ["ext_compact_under", 0],
    ["ext_drop_under", 0],
    ["ext_max_sleep", 1000000],
    ["ext_max_frag", "0.80"],
    ["slab_automove_freeratio", "0.010"],
    ["ext_drop_unread", "no"],
    ["ssl_enabled", yes(s.tls.enabled)],
    ["ssl_chain_cert", s.tls.chainCert ?? "(null)"],
    ["ssl_key", s.tls.key ?? "(null)"],
    // memcached prints OpenSSL's flags: PEER 1, | FAIL_IF_NO_PEER_CERT 2, | CLIENT_ONCE 4.
    ["ssl_verify_mode", [0, 1, 3, 7][s.tls.verifyMode]],
    ["ssl_keyformat", 1],
    ["ssl_ciphers", s.tls.ciphers ?? "NULL"],
    ["ssl_ca_cert", s.tls.caCert ?? "NULL"],
    ["ssl_wbuf_size", s.tls.wbufSize],
    ["ssl_session_cache", "no"],
    ["ssl_kernel_tls", "no"],
    ["ssl_min_version", TLS_VERSIONS[s.tls.minVersion]],
    // memcached prints this int with %s: "(null)" when 0 (and it crashes on the first client with -N).
    ["num_napi_ids", s.napiIds === 0 ? "(null)" : s.napiIds],
    ["memory_file", "(null)"],
  ];
}

/** A class-stats counter summed over every class, for the general `stats`. */
function classTotal(ctx: ServerContext, counter: number): number {
  const e = ctx.cache.engine;
  if (!(e instanceof SlabEngine)) return 0;
  let sum = 0;
  for (let cls = 1; cls <= e.classes.largest; cls++) sum += e.classStats.get(cls, counter);
  return sum;
}

const SEGMENTS = 4;

/** `stats items` counters memcached prints only while its LRU maintainer runs. */
const MAINTAINER_COUNTERS: ReadonlySet<string> = new Set([
  "evicted_active", "moves_to_cold", "moves_to_warm", "moves_within_lru", "direct_reclaims",
  "hits_to_hot", "hits_to_warm", "hits_to_cold", "hits_to_temp",
]);

/**
 * `stats items`: memcached's item_stats, for every class holding items. Ages are those of
 * each segment's oldest item; number_temp only while the TEMP LRU is on, as memcached.
 */
function items(ctx: ServerContext): Stat[] {
  const e = ctx.cache.engine;
  if (!(e instanceof SlabEngine)) return [];
  const now = ctx.cache.now();
  const age = (cls: number, seg: number): number => {
    const h = e.tail(cls, seg);
    return h === 0 ? 0 : now - e.time(h);
  };
  const maintainer = ctx.settings.lruMaintainer;
  const out: Stat[] = [];
  for (let cls = 1; cls <= e.classes.largest; cls++) {
    const l = cls * SEGMENTS;
    const n = e.lruCount[l + Seg.hot] + e.lruCount[l + Seg.warm] + e.lruCount[l + Seg.cold] + e.lruCount[l + Seg.temp];
    if (n === 0) continue;
    const p = `items:${cls}:`;
    out.push([`${p}number`, n]);
    if (maintainer) {
      out.push([`${p}number_hot`, e.lruCount[l + Seg.hot]], [`${p}number_warm`, e.lruCount[l + Seg.warm]], [`${p}number_cold`, e.lruCount[l + Seg.cold]]);
      if (ctx.engine.tuning.tempLru) out.push([`${p}number_temp`, e.lruCount[l + Seg.temp]]);
      out.push([`${p}age_hot`, age(cls, Seg.hot)], [`${p}age_warm`, age(cls, Seg.warm)]);
    }
    out.push([`${p}age`, age(cls, Seg.cold)], [`${p}mem_requested`, e.requested[cls]]);
    for (let i = 0; i < CLASS_COUNTERS.length; i++) {
      if (maintainer || !MAINTAINER_COUNTERS.has(CLASS_COUNTERS[i])) out.push([p + CLASS_COUNTERS[i], e.classStats.get(cls, i)]);
    }
  }
  return out;
}

/** `stats slabs`: memcached's slabs_stats, for every class owning pages, then the totals. */
function slabs(ctx: ServerContext): Stat[] {
  const e = ctx.cache.engine;
  if (!(e instanceof SlabEngine)) return [];
  const counters = ctx.cache.slabCounters;
  const out: Stat[] = [];
  let active = 0;
  for (let cls = 1; cls <= e.classes.largest; cls++) {
    const pages = e.classPages[cls].length;
    if (pages === 0) continue;
    active++;
    const perPage = e.classes.perSlab[cls];
    const free = e.freeCount[cls];
    out.push(
      [`${cls}:chunk_size`, e.classes.size[cls]],
      [`${cls}:chunks_per_page`, perPage],
      [`${cls}:total_pages`, pages],
      [`${cls}:total_chunks`, pages * perPage],
      [`${cls}:used_chunks`, pages * perPage - free],
      [`${cls}:free_chunks`, free],
      [`${cls}:free_chunks_end`, 0],
    );
    for (let i = 0; i < SLAB_COUNTERS.length; i++) out.push([`${cls}:${SLAB_COUNTERS[i]}`, counters[cls * SLAB_COUNTERS.length + i]]);
  }
  out.push(["active_slabs", active], ["total_malloced", e.pagesCharged() * PAGE_SIZE]);
  return out;
}

/** memcached's stats_sizes bucket width. */
const SIZE_BUCKET = 32;

/**
 * `stats sizes`: items by total size in 32-byte buckets, counting only items stored since
 * `stats sizes_enable` (memcached ignores items whose CAS predates it). memcached keeps the
 * histogram up to date on every link; it is computed here by a walk when asked, instead.
 */
function sizes(ctx: ServerContext): Stat[] {
  const cache = ctx.cache;
  if (cache.sizesCasMin < 0) return [["sizes_status", "disabled"]];
  const e = cache.engine;
  const buckets = new Map<number, number>();
  const limit = Math.floor(ctx.settings.maxItemSize / SIZE_BUCKET) + 1;
  e.forEach((h) => {
    if (e.cas(h) < cache.sizesCasMin) return;
    const b = Math.ceil(e.totalSize(h) / SIZE_BUCKET);
    if (b < limit) buckets.set(b, (buckets.get(b) ?? 0) + 1);
  });
  return [...buckets.keys()].sort((a, b) => a - b).map((b) => [String(b * SIZE_BUCKET), buckets.get(b) as number]);
}

/** `stats conns`: the listeners and every client, ordered as memcached's fds. */
function conns(ctx: ServerContext): Stat[] {
  const now = ctx.cache.now();
  const out: Stat[] = [];
  for (const c of ctx.connections()) {
    if (c.udp === true) out.push([`${c.id}:UDP`, "UDP"]);
    out.push([`${c.id}:addr`, c.address]);
    if (c.listenAddress !== null) out.push([`${c.id}:listen_addr`, c.listenAddress]);
    out.push([`${c.id}:state`, c.state], [`${c.id}:secs_since_last_cmd`, now - c.lastCommandAt]);
  }
  return out;
}

const FAMILIES: Record<string, (ctx: ServerContext) => Stat[]> = {
  "": general,
  settings,
  items,
  slabs,
  sizes,
  conns,
  persistence: persistenceStats,
  memcached_ts: ours,
  // memcached built with extstore answers an empty family when no external storage is set.
  extstore: () => [],
};

/**
 * The stats of a family, and whether memcached ends them with END (its empty stat); null when
 * the family does not exist. `sizes_enable` and `sizes_disable` act and answer one line.
 */
export function statsFamily(ctx: ServerContext, family: string): { stats: Stat[]; end: boolean } | null {
  if (family === "sizes_enable" && !ctx.cache.useCas) {
    // Items stored since enabling are told apart by their CAS, which -C takes away.
    return { stats: [["sizes_status", "error"], ["sizes_error", "cas_support_disabled"]], end: false };
  }
  if (family === "sizes_enable" || family === "sizes_disable") {
    ctx.cache.trackSizes(family === "sizes_enable");
    return { stats: [["sizes_status", family === "sizes_enable" ? "enabled" : "disabled"]], end: false };
  }
  const f = FAMILIES[family];
  return f === undefined ? null : { stats: f(ctx), end: true };
}

/** Writes a stats family in the text protocol; false when the family does not exist. */
export function writeStats(ctx: ServerContext, family: string, out: OutBuffer): boolean {
  const r = statsFamily(ctx, family);
  if (r === null) return false;
  for (const [name, value] of r.stats) out.ascii(`STAT ${name} ${value}\r\n`);
  if (r.end) out.ascii("END\r\n");
  return true;
}
