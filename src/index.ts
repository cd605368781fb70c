/**
 * memcached-ts as a library: start a memcached-compatible server inside another program
 * (tests that need a memcached, for instance), no memcached binary needed.
 *
 *     import { createServer } from "memcached-ts";
 *     const server = await createServer({ port: 0, listen: "127.0.0.1", memoryLimit: "64m" });
 *     // ... connect any memcached client to 127.0.0.1:server.port ...
 *     await server.close();
 *
 * The options are the command line's long option names in camelCase, read by the same parser
 * (so they cannot drift from the CLI and `--help`), with the same defaults and validation.
 */
import { createLogger } from "./log.ts";
import { startServer } from "./server/server.ts";
import { type OptionName, type ValueOptionName, parseCli } from "./settings/cli.ts";

export { SettingsError } from "./settings/cli.ts";

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
/** Options that only make sense on a command line. */
type CliOnly = "help" | "version" | "config" | "verbose";
type ValueOptions = { [K in Exclude<ValueOptionName, CliOnly> as Camel<K>]?: string | number };
type FlagOptions = { [K in Exclude<Exclude<OptionName, ValueOptionName>, CliOnly> as Camel<K>]?: boolean };

/** createServer's options: every CLI option in camelCase; `verbose` counts like -v, -vv, -vvv. */
export type ServerOptions = ValueOptions & FlagOptions & { verbose?: number };

export interface MemcachedServer {
  /** The TCP port it listens on (the one chosen when `port` was 0); 0 on a unix socket. */
  readonly port: number;
  /** Stops accepting, drops every connection, writes and closes the persistence log; resolves once all is closed. */
  close(): Promise<void>;
  /** Resolves when the server stops for any reason (close() or the `shutdown` command). */
  readonly stopped: Promise<void>;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Starts a server; rejects with a SettingsError for a bad option, or the listen error. */
export async function createServer(options: ServerOptions = {}): Promise<MemcachedServer> {
  const argv: string[] = [];
  for (const [name, value] of Object.entries(options) as [string, string | number | boolean | undefined][]) {
    if (value === undefined || value === false) continue;
    if (name === "verbose") argv.push(...Array.from({ length: Number(value) }, () => "--verbose"));
    else if (value === true) argv.push(`--${kebab(name)}`);
    else argv.push(`--${kebab(name)}=${value}`);
  }
  const parsed = parseCli(argv);
  if (parsed.kind !== "run") throw new Error("unreachable: no help or version option is accepted here");
  const server = await startServer(parsed.settings, createLogger(parsed.settings).log);
  return { port: server.port, close: () => server.close(), stopped: server.stopped };
}
