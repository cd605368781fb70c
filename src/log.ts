import { pino, type Logger } from "pino";
import type { Settings } from "./settings/settings.ts";

export type { Logger };

/**
 * Leveled logs to stderr or a file, as the settings say. `reopen` opens the file again under
 * its name (SIGHUP, after logrotate moved it away); a no-op for stderr.
 */
export function createLogger(settings: Settings): { log: Logger; reopen(): void } {
  const toFile = settings.logDestination !== "stderr";
  const dest = toFile
    ? pino.destination({ dest: settings.logDestination, mkdir: true, sync: false })
    : pino.destination({ fd: 2, sync: true });
  const log = pino({ level: settings.logLevel, base: { pid: process.pid } }, dest);
  return { log, reopen: () => (toFile ? dest.reopen() : undefined) };
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
