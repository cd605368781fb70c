import { type ELDHistogram, monitorEventLoopDelay } from "node:perf_hooks";

const RESOLUTION_MS = 1;
const RESOLUTION_NS = RESOLUTION_MS * 1e6;

/**
 * How late the event loop runs a 1 ms timer: the worst stall (a GC pause, a long synchronous
 * task) is the latency every request queued behind it pays. memcached has no such figure, so
 * these stats lines are ours only (conformance filters them out). Sampled only while the
 * server is active (see Heartbeat): the max covers every active stretch since `stats reset`,
 * the p99 the current one.
 */
export class LoopDelay {
  private h: ELDHistogram = LoopDelay.sampling();
  /** The worst lateness (ns) of the active stretches before the current one. */
  private earlierMax = 0;
  private running = true;

  /**
   * A new histogram for each active stretch: Node's re-enabled one counts the time it was off
   * as one long late timer (a 2 s rest showed as a 1.9 s stall).
   */
  private static sampling(): ELDHistogram {
    const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    h.enable();
    return h;
  }

  /** The histogram records whole timer intervals; the stall is what exceeds the 1 ms period. */
  private stallUs(ns: number): number {
    return Math.max(0, Math.round((ns - RESOLUTION_NS) / 1000));
  }

  stats(): [name: string, value: number][] {
    const empty = this.h.count === 0;
    const max = Math.max(this.earlierMax, empty ? 0 : this.h.max);
    return [
      ["event_loop_delay_max_us", max === 0 ? 0 : this.stallUs(max)],
      ["event_loop_delay_p99_us", empty ? 0 : this.stallUs(this.h.percentile(99))],
    ];
  }

  /** `stats reset`. */
  reset(): void {
    this.h.reset();
    this.earlierMax = 0;
  }

  /** No more sampling: the server rests (no 1 ms timer waking it for nothing) or stops. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.h.disable();
    if (this.h.count > 0) this.earlierMax = Math.max(this.earlierMax, this.h.max);
  }

  /** Sampling again after `stop`. */
  resume(): void {
    if (this.running) return;
    this.running = true;
    this.h = LoopDelay.sampling();
  }
}
