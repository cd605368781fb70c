import { monitorEventLoopDelay } from "node:perf_hooks";

/**
 * Runs `f` while timing this script's own event loop, which is nearly idle meanwhile: its worst
 * stall is what the machine (other processes, a paused VM) did to everyone, a control for the
 * stalls a server reports over the same time.
 */
export async function withControl<T>(f: () => Promise<T>): Promise<{ result: T; controlStallUs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    const result = await f();
    return { result, controlStallUs: Math.round(h.max / 1000) };
  } finally {
    h.disable();
  }
}
