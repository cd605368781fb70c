import { chmodSync, unlinkSync } from "node:fs";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { TLSSocket } from "node:tls";
import { AuthFile } from "../auth/auth-file.ts";
import type { Logger } from "../log.ts";
import { type Settings, clientLimit, levelForVerbosity, udpConnectionsPerSocket } from "../settings/settings.ts";
import { Persistence, type PersistenceOptions } from "../persistence/persistence.ts";
import { LentItems } from "../protocol/out-buffer.ts";
import { Counters } from "../stats/counters.ts";
import { LoopDelay } from "../stats/loop-delay.ts";
import { PrefixStats } from "../stats/prefix-stats.ts";
import { Cache } from "../store/cache.ts";
import { type Clock, CoarseClock } from "../store/clock.ts";
import { Crawler } from "../store/crawler.ts";
import { SlabEngine } from "../store/slab-engine.ts";
import { Connection } from "./connection.ts";
import { type ConnectionInfo, ServerContext, socketAddress } from "./context.ts";
import { AcceptQueue } from "./accept-queue.ts";
import { startIdleSweep } from "./idle.ts";
import { devZeroFiller } from "./page-filler.ts";
import { type ListenSpec, parseListenSpec } from "./listen-spec.ts";
import { Heartbeat } from "./heartbeat.ts";
import { TlsListeners } from "./tls.ts";
import { READ_BUFFER_SIZE, adoptWithReusedBuffer } from "./reused-read.ts";
import { type UdpConnection, startUdp } from "./udp.ts";

const TOO_MANY = Buffer.from("ERROR Too many open connections\r\n");

export interface RunningServer {
  readonly ctx: ServerContext;
  /** TCP port actually bound (useful with -p 0), or 0 with a unix socket. */
  readonly port: number;
  /**
   * Stops accepting and closes every connection, then closes the log; resolves when all is
   * closed. `graceful` (SIGTERM, `shutdown graceful`) first lets each connection finish what
   * it started and take its replies, for up to 5 s; otherwise connections are dropped at once.
   */
  close(graceful?: boolean): Promise<void>;
  /** Resolves when the server stops for any reason (close() or the shutdown command). */
  readonly stopped: Promise<void>;
  /** Once stopped: why the persistence log could not be closed cleanly (data lost), or null. */
  readonly closeError: Error | null;
}

export interface ServerOptions {
  clock?: Clock;
  /** Read path for new connections; "onread" (the default) falls back to "data" if Node's internals differ. */
  readMode?: "onread" | "data";
  persistence?: PersistenceOptions;
}

/**
 * Milliseconds from one full maintenance tick (hash growth, page moves, crawling, persistence)
 * to the next; ticks between them only keep the LRU. Just under 10, so that timer jitter does
 * not push every fifth 2 ms tick to the sixth.
 */
const FULL_TICK_MS = 9;

/** Graceful shutdown waits this long for clients to take their last replies, then drops them. */
const STOP_GRACE_MS = 5000;

/** Builds the store and listeners the settings describe and starts serving. */
export async function startServer(settings: Settings, log: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const coarse = options.clock === undefined ? new CoarseClock() : null;
  const clock: Clock = options.clock ?? (coarse as CoarseClock);
  const counters = new Counters();
  // The auth file and certificates are checked before anything is built or recovered.
  const auth = settings.authFile === null ? null : new AuthFile(settings.authFile);
  const tls = settings.tls.enabled ? new TlsListeners(settings.tls, counters, () => clock.now()) : null;
  const lentItems = new LentItems();
  const engine: SlabEngine = new SlabEngine({
    limitBytes: settings.memoryLimit,
    maxItemSize: settings.maxItemSize,
    noEvict: settings.noEvict,
    growthFactor: settings.growthFactor,
    minChunkSize: settings.minChunkSize,
    slabChunkMax: settings.slabChunkMax,
    hotLruPct: settings.hotLruPct,
    warmLruPct: settings.warmLruPct,
    hotMaxFactor: settings.hotMaxFactor,
    warmMaxFactor: settings.warmMaxFactor,
    temporaryTtl: settings.temporaryTtl,
    tempLru: settings.temporaryLru,
    automove: settings.slabAutomove,
    hashPower: settings.hashPowerInit,
    maintainer: settings.lruMaintainer,
    reassign: settings.slabReassign,
    useCas: settings.useCas,
    automoveRatio: settings.slabAutomoveRatio,
    hashExpand: settings.hashExpand,
    isDead: (h) => cache.isDead(h),
    beforeOverwrite: () => lentItems.reclaim(),
  });
  const cache = new Cache(engine, clock, counters, settings.useCas);
  if (settings.trackSizes) cache.trackSizes(true);
  // Recovery runs before anything listens, so no client sees a half-loaded cache.
  const persistence = settings.aof === null ? null : Persistence.open(settings, cache, engine, log, options.persistence);
  // What replay linked or evicted was no client's doing.
  if (persistence !== null) cache.resetStats();
  cache.journal = persistence;
  // Recovery faulted its pages in itself; from here on, memory the cache and its hash index grow into is faulted in ahead of them.
  const filler = devZeroFiller();
  if (filler !== null) {
    engine.arena.faultAheadWith(filler);
    engine.index.faultAheadWith(filler);
  }
  const crawler = new Crawler(engine, cache);
  crawler.enabled = settings.lruCrawler;
  crawler.sleep = settings.lruCrawlerSleep;
  crawler.tocrawl = settings.lruCrawlerTocrawl;
  const connections = new Set<Connection>();
  const acceptQueue = settings.maxconnsFast ? null : new AcceptQueue(counters, settings.backlog);
  const readMode = options.readMode ?? "onread";
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  const listeners: Server[] = [];
  let stopping: Promise<void> | null = null;
  let closeError: Error | null = null;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const loopDelay = new LoopDelay();
  // LRU maintenance, hash growth and expiry crawling, in small slices between requests. The
  // LRU's upkeep runs every tick (2 ms while clients are active): at 90% gets it moves about
  // one item per request, and done every 10 ms it took ~0.3 ms at a time, during which every
  // connection waited (three paired runs: p99 2-18% lower at 2 ms, CPU per request the same;
  // see README). The rest runs on the first tick FULL_TICK_MS after its last run (every tick
  // at the idle pace), its budgets sized for about 10 ms.
  let lastFullTick = -Infinity;
  const heartbeat = new Heartbeat(
    () => {
      coarse?.refresh();
      const now = clock.now();
      const t = performance.now();
      if (t - lastFullTick < FULL_TICK_MS) return engine.maintainLru(now);
      lastFullTick = t;
      const busy = engine.maintain(now);
      crawler.tick(now);
      persistence?.tick();
      return busy || crawler.running || (persistence?.snapshotRunning ?? false);
    },
    () => loopDelay.stop(),
    () => {
      coarse?.refresh();
      loopDelay.resume();
    },
  );
  const ctx = new ServerContext(
    {
      settings,
      cache,
      engine,
      counters,
      crawler,
      loopDelay,
      heartbeat,
      persistence,
      auth,
      tls,
      prefixStats: new PrefixStats(),
      lentItems,
      startedAt: clock.now(),
      acceptQueue,
      connections: () => [...listenerInfo, ...[...connections].sort((a, b) => a.id - b.id)],
      shutdown: (graceful) => {
        log.info({ graceful }, "shutdown requested");
        void close(graceful);
      },
    },
    settings.verbosity,
    // The `verbosity` command changes the log level too, as it changes what memcached prints.
    (v) => (log.level = levelForVerbosity(v)),
  );

  const maxClients = clientLimit(settings);
  // Connection ids are handed out as memcached's fds are: the lowest free one, above the listeners'.
  const listenerInfo: ConnectionInfo[] = [];
  const freeIds: number[] = [];
  let nextId = 0;
  const takeId = (): number => (freeIds.length > 0 ? (freeIds.shift() as number) : nextId++);
  const releaseId = (id: number): void => {
    let i = 0;
    while (i < freeIds.length && freeIds[i] < id) i++;
    freeIds.splice(i, 0, id);
  };
  const onSocket = (socket: Socket): void => {
    if (counters.currConnections >= maxClients && acceptQueue !== null) {
      acceptQueue.hold(socket);
      return;
    }
    if (counters.currConnections >= maxClients) {
      counters.rejectedConnections++;
      // memcached closes the socket outright once the line is written; an end() alone would
      // leave a half-open socket nobody reads, and keep close() waiting on it.
      socket.write(TOO_MANY, () => socket.destroy());
      return;
    }
    counters.currConnections++;
    counters.totalConnections++;
    const onClose = (c: Connection): void => {
      if (!connections.delete(c)) return;
      counters.currConnections--;
      releaseId(c.id);
      const waiting = acceptQueue?.next();
      if (waiting !== undefined) onSocket(waiting);
    };
    let conn: Connection;
    const adopted = readMode === "onread" && !(socket instanceof TLSSocket) ? adoptWithReusedBuffer(socket, readBuffer, (buf, n) => conn.receive(buf, n)) : null;
    if (adopted !== null) conn = new Connection(takeId(), adopted, "onread", ctx, log, onClose);
    else {
      conn = new Connection(takeId(), socket, "data", ctx, log, onClose);
      socket.resume();
    }
    connections.add(conn);
    log.debug({ conn: conn.id, from: conn.address }, "new client connection");
  };

  const listen = (server: Server, opts: { port?: number; host?: string; path?: string }): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ ...opts, backlog: settings.backlog }, () => {
        server.off("error", reject);
        server.on("error", (err) => log.error({ err: err.message }, "listener error"));
        resolve();
      });
    });

  const idleSweep = settings.idleTimeout > 0 ? startIdleSweep(settings.idleTimeout, () => clock.now(), () => connections, counters) : null;

  let port = 0;
  if (settings.socketPath !== null) {
    try {
      unlinkSync(settings.socketPath);
    } catch {
      // no stale socket to remove
    }
    const server = createServer({ noDelay: true, pauseOnConnect: true }, onSocket);
    await listen(server, { path: settings.socketPath });
    // memcached sets umask(~mask): -a is the permission the socket gets (0700 = owner only).
    chmodSync(settings.socketPath, settings.socketMask & 0o777);
    listeners.push(server);
  } else {
    const specs = settings.listen.length === 0 ? [{ host: undefined, port: null, tls: true }] : settings.listen.map((l) => parseListenSpec(l) as ListenSpec);
    for (const spec of specs) {
      // A TLS socket is read through its own stream, never through the shared read buffer.
      const server = tls !== null && spec.tls ? tls.create(onSocket) : createServer({ noDelay: true, pauseOnConnect: true }, onSocket);
      await listen(server, { port: spec.port ?? (port !== 0 ? port : settings.port), host: spec.host });
      if (spec.port === null) port = (server.address() as AddressInfo).port;
      listeners.push(server);
    }
  }

  for (const server of listeners) {
    const a = server.address();
    const address = typeof a === "string" || a === null ? socketAddress(undefined, undefined, undefined, settings.socketPath) : socketAddress(a.family, a.address, a.port, null);
    listenerInfo.push({ id: takeId(), address, listenAddress: null, lastCommandAt: ctx.startedAt, state: "conn_listening", readMode: null });
  }

  // UDP (-U) after TCP, as memcached binds them.
  let udp: UdpConnection[];
  try {
    udp = await startUdp(ctx, log);
  } catch (err) {
    // The TCP listeners would keep a failed start alive.
    await Promise.all(listeners.map((s) => new Promise<void>((r) => s.close(() => r()))));
    throw err;
  }
  // memcached serves each UDP socket with a connection per thread: each is listed in `stats
  // conns`, counts in curr_connections and total_connections, and takes a descriptor of -c.
  const perSocket = udpConnectionsPerSocket(settings);
  for (const u of udp) for (let k = 0; k < perSocket; k++) listenerInfo.push(u.info(takeId(), k === 0));
  counters.currConnections += udp.length * perSocket;
  counters.totalConnections += udp.length * perSocket;

  function close(graceful = false): Promise<void> {
    if (stopping !== null) return stopping;
    stopping = (async () => {
      // Stop accepting, let every connection finish what it started (replies waiting for the
      // log included), then write and fsync the log (and a snapshot if asked).
      const closed = Promise.all([...listeners.map((s) => new Promise<void>((r) => s.close(() => r()))), ...udp.map((u) => u.close())]);
      const grace = new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS).unref());
      if (graceful) await Promise.race([Promise.all([...connections].map((c) => c.stop())), grace]);
      acceptQueue?.clear();
      for (const c of [...connections]) c.destroy();
      await closed;
      heartbeat.stop();
      if (idleSweep !== null) clearInterval(idleSweep);
      try {
        await persistence?.close();
      } catch (err) {
        closeError = err as Error;
        log.error({ err: closeError.message }, "persistence not closed cleanly");
      }
      ctx.loopDelay.stop();
      resolveStopped();
    })();
    return stopping;
  }

  log.info({ port, udpPort: udp.length > 0 ? settings.udpPort : 0, socket: settings.socketPath }, "memcached-ts listening");
  return {
    ctx,
    port,
    close,
    stopped,
    get closeError() {
      return closeError;
    },
  };
}
