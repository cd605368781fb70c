import { pino, type Logger } from "pino";
import type { Settings } from "./settings/settings.ts";

export type { Logger };

/** Leveled logs to stderr or a file, as the settings say. */
export function createLogger(settings: Settings): Logger {
  const dest =
    settings.logDestination === "stderr"
      ? pino.destination({ fd: 2, sync: true })
      : pino.destination({ dest: settings.logDestination, mkdir: true, sync: false });
  return pino({ level: settings.logLevel, base: { pid: process.pid } }, dest);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
