import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import type { Logger } from "../log.ts";

/**
 * memcached's save_pid: the pid goes to a temporary file renamed into place, so a reader
 * never sees an empty file; a pid file naming a live process is only warned about.
 */
export function writePidFile(path: string, log: Logger): void {
  const old = readPid(path);
  if (old !== null && old !== process.pid && isRunning(old)) log.warn({ pid: old, path }, "the pid file contained a running pid");
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`);
  renameSync(tmp, path);
}

/** Removes the pid file at exit, if it is still ours (a second instance may have replaced it). */
export function removePidFile(path: string): void {
  if (readPid(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function readPid(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
