import { createLogger } from "./log.ts";
import { startServer } from "./server/server.ts";
import { SettingsError, parseCli } from "./settings/cli.ts";
import { MEMCACHED_VERSION, VERSION } from "./version.ts";

async function main(): Promise<number> {
  let result;
  try {
    result = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`memcached-ts: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
  if (result.kind === "help") {
    process.stdout.write(result.text);
    return 0;
  }
  if (result.kind === "version") {
    process.stdout.write(`memcached-ts ${VERSION} (memcached ${MEMCACHED_VERSION} protocol)\n`);
    return 0;
  }
  const settings = result.settings;
  const log = createLogger(settings);
  if (settings.sasl && settings.saslPwdb === null) log.warn("-S without MEMCACHED_SASL_PWDB: every SASL authentication will fail");
  let server;
  try {
    server = await startServer(settings, log);
  } catch (err) {
    const where = settings.socketPath ?? `${settings.listen.join(",") || "*"}:${settings.port}`;
    process.stderr.write(`memcached-ts: cannot listen on ${where}: ${(err as Error).message}\n`);
    return 71;
  }
  const stop = (): void => void server.close();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await server.stopped;
  return 0;
}

process.exitCode = await main();
