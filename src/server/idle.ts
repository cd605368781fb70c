import type { Counters } from "../stats/counters.ts";

/** What the sweep needs of a client connection. */
export interface IdleCandidate {
  readonly state: string;
  readonly lastCommandAt: number;
  destroy(): void;
}

/** memcached's conn_timeout thread checks every connection about once a second. */
const SWEEP_MS = 1000;

/**
 * `-o idle_timeout=N`, as memcached's conn_close_idle: a client whose last command is more than
 * N seconds old is closed, and counted in `idle_kicks`, but only while it waits for a command
 * (conn_new_cmd or conn_read); one in the middle of a data block or a reply is left alone.
 * Returns the timer, for the server to clear when it stops.
 */
export function startIdleSweep(
  timeout: number,
  now: () => number,
  connections: () => Iterable<IdleCandidate>,
  counters: Counters,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    const t = now();
    for (const c of [...connections()]) {
      if (t - c.lastCommandAt <= timeout) continue;
      if (c.state !== "conn_new_cmd" && c.state !== "conn_read") continue;
      counters.idleKicks++;
      c.destroy();
    }
  }, SWEEP_MS);
  timer.unref();
  return timer;
}
