import { type ELDHistogram, monitorEventLoopDelay } from "node:perf_hooks";

const RESOLUTION_MS = 1;
const RESOLUTION_NS = RESOLUTION_MS * 1e6;

/**
 * How late the event loop runs a 1 ms timer: the worst stall (a GC pause, a long synchronous
 * task) is the latency every request queued behind it pays. memcached has no such figure, so
 * these stats lines are ours only (conformance filters them out).
 */
export class LoopDelay {
  private readonly h: ELDHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.h.enable();
  }

  /** The histogram records whole timer intervals; the stall is what exceeds the 1 ms period. */
  private stallUs(ns: number): number {
    return Math.max(0, Math.round((ns - RESOLUTION_NS) / 1000));
  }

  stats(): [name: string, value: number][] {
    const empty = this.h.count === 0;
    return [
      ["event_loop_delay_max_us", empty ? 0 : this.stallUs(this.h.max)],
      ["event_loop_delay_p99_us", empty ? 0 : this.stallUs(this.h.percentile(99))],
    ];
  }

  /** Sampling again after `stop` (the idle server stops it: no 1 ms timer waking it for nothing). */
  resume(): void {
    this.h.enable();
  }

  /** `stats reset`. */
  reset(): void {
    this.h.reset();
  }

  stop(): void {
    this.h.disable();
  }
}
