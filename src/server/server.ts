import { chmodSync, unlinkSync } from "node:fs";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import type { Logger } from "../log.ts";
import { type Settings, clientLimit } from "../settings/settings.ts";
import { Counters } from "../stats/counters.ts";
import { PrefixStats } from "../stats/prefix-stats.ts";
import { Cache } from "../store/cache.ts";
import { type Clock, systemClock } from "../store/clock.ts";
import { MapEngine } from "../store/map-engine.ts";
import { Connection } from "./connection.ts";
import { type ConnectionInfo, type ServerContext, socketAddress } from "./context.ts";

const TOO_MANY = Buffer.from("ERROR Too many open connections\r\n");

export interface RunningServer {
  readonly ctx: ServerContext;
  /** TCP port actually bound (useful with -p 0), or 0 with a unix socket. */
  readonly port: number;
  /** Stops accepting, closes every connection; resolves when all listeners are closed. */
  close(): Promise<void>;
  /** Resolves when the server stops for any reason (close() or the shutdown command). */
  readonly stopped: Promise<void>;
}

export interface ServerOptions {
  clock?: Clock;
}

/** Builds the store and listeners the settings describe and starts serving. */
export async function startServer(settings: Settings, log: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const counters = new Counters();
  const engine: MapEngine = new MapEngine({
    limitBytes: settings.memoryLimit,
    maxItemSize: settings.maxItemSize,
    noEvict: settings.noEvict,
    isDead: (h) => cache.isDead(h),
  });
  const cache = new Cache(engine, clock, counters);
  const connections = new Set<Connection>();
  const listeners: Server[] = [];
  let stopping: Promise<void> | null = null;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const ctx: ServerContext = {
    settings,
    cache,
    counters,
    prefixStats: new PrefixStats(),
    startedAt: clock.now(),
    verbosity: settings.verbosity,
    connections: () => [...listenerInfo, ...[...connections].sort((a, b) => a.id - b.id)],
    shutdown: (graceful) => {
      log.info({ graceful }, "shutdown requested");
      void close();
    },
  };

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
    if (counters.currConnections >= maxClients) {
      counters.rejectedConnections++;
      // memcached closes the socket outright once the line is written; an end() alone would
      // leave a half-open socket nobody reads, and keep close() waiting on it.
      socket.write(TOO_MANY, () => socket.destroy());
      return;
    }
    counters.currConnections++;
    counters.totalConnections++;
    const conn = new Connection(takeId(), socket, ctx, log, (c) => {
      if (!connections.delete(c)) return;
      counters.currConnections--;
      releaseId(c.id);
    });
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

  let port = 0;
  if (settings.socketPath !== null) {
    try {
      unlinkSync(settings.socketPath);
    } catch {
      // no stale socket to remove
    }
    const server = createServer({ noDelay: true }, onSocket);
    await listen(server, { path: settings.socketPath });
    // memcached sets umask(~mask): -a is the permission the socket gets (0700 = owner only).
    chmodSync(settings.socketPath, settings.socketMask & 0o777);
    listeners.push(server);
  } else {
    const hosts = settings.listen.length === 0 ? [undefined] : settings.listen;
    for (const host of hosts) {
      const server = createServer({ noDelay: true }, onSocket);
      await listen(server, { port: port !== 0 ? port : settings.port, host: host?.replace(/^\[|\]$/g, "") });
      port = (server.address() as AddressInfo).port;
      listeners.push(server);
    }
  }

  for (const server of listeners) {
    const a = server.address();
    const address = typeof a === "string" || a === null ? socketAddress(undefined, undefined, undefined, settings.socketPath) : socketAddress(a.family, a.address, a.port, null);
    listenerInfo.push({ id: takeId(), address, listenAddress: null, lastCommandAt: ctx.startedAt, state: "conn_listening" });
  }

  function close(): Promise<void> {
    if (stopping !== null) return stopping;
    stopping = (async () => {
      await Promise.all(listeners.map((s) => new Promise<void>((r) => s.close(() => r()))).concat(
        [...connections].map(async (c) => c.destroy()),
      ));
      resolveStopped();
    })();
    return stopping;
  }

  log.info({ port, socket: settings.socketPath }, "memcached-ts listening");
  return { ctx, port, close, stopped };
}
