import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses a bench script's flags (plus --help, which prints `help` and exits). */
export function parseBenchArgs<const O extends Options>(help: string, options: O) {
  const config = { options: { ...options, help: { type: "boolean", default: false } } as const };
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    // An unknown flag or a missing value: one line, not a stack trace.
    process.stderr.write(`${(err as Error).message.replace(/\s*\n\s*/g, " ")} (--help lists the flags)\n`);
    process.exit(64);
  }
  const { values } = parsed;
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(help);
    process.exit(0);
  }
  return values;
}

/** Generator shape for the long single-phase scripts (churn, zipf): flags, their help, and the values read back. */
export const PHASE_FLAGS = {
  workers: { type: "string", default: "2" },
  conns: { type: "string", default: "8" },
  depth: { type: "string", default: "16" },
  seconds: { type: "string", default: "300" },
} as const;

export const PHASE_HELP = `  --workers N       generator threads (2)
  --conns N         connections per worker (8)
  --depth N         requests in flight per connection (16)
  --seconds S       time bound per phase (300)`;

export function phaseOptions(v: { workers: string; conns: string; depth: string; seconds: string }): {
  workers: number;
  conns: number;
  depth: number;
  seconds: number;
} {
  return { workers: Number(v.workers), conns: Number(v.conns), depth: Number(v.depth), seconds: Number(v.seconds) };
}
