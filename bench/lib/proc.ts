import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

let ticksPerSecond = 0;

/** User and system CPU seconds a process (all its threads) has used, from /proc/<pid>/stat. */
export function cpuTimes(pid: number): { user: number; system: number } {
  if (ticksPerSecond === 0) ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  // The command name in parentheses may contain spaces: count fields after its closing ')'.
  // Fields from there start at #3 (state); utime and stime are #14 and #15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond };
}

/** User + system CPU seconds a process (all its threads) has used. */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/**
 * CPU seconds a process's threads have run, from each thread's /proc/<pid>/task/<tid>/schedstat:
 * the scheduler's own nanosecond count, where /proc/<pid>/stat counts whole clock ticks. A
 * thread that ended between two readings takes its time with it (Node's threads live as long
 * as the process).
 */
export function cpuRunSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1").split(" ")[0]);
    } catch {
      // the thread ended after the directory was listed
    }
  }
  return ns / 1e9;
}

/** Resident set size and its peak, in bytes, from /proc/<pid>/status. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (m === null) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}
