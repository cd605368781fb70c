#!/usr/bin/env node
import { AuthFileError } from "./auth/auth-file.ts";
import { reexecWithHugePages } from "./huge-pages.ts";
import { createLogger } from "./log.ts";
import { runCheck } from "./persistence/check.ts";
import { ManifestError } from "./persistence/manifest.ts";
import { RecoveryError } from "./persistence/recovery.ts";
import { removePidFile, writePidFile } from "./server/pidfile.ts";
import { startServer } from "./server/server.ts";
import { keepStdioBlocking } from "./server/stdio.ts";
import { TlsSetupError } from "./server/tls.ts";
import { UdpBindError } from "./server/udp.ts";
import { SettingsError, parseCli } from "./settings/cli.ts";
import { MEMCACHED_VERSION, VERSION } from "./version.ts";

async function main(): Promise<number> {
  keepStdioBlocking();
  if (process.argv[2] === "check") return runCheck(process.argv.slice(3));
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
  reexecWithHugePages();
  const settings = result.settings;
  const { log, reopen } = createLogger(settings);
  if (settings.sasl && settings.saslPwdb === null) log.warn("-S without MEMCACHED_SASL_PWDB: every SASL authentication will fail");
  let server;
  try {
    server = await startServer(settings, log);
  } catch (err) {
    if (err instanceof AuthFileError) {
      // memcached exits 1 either way; sysexits tell an unreadable file from a malformed one.
      process.stderr.write(`memcached-ts: ${err.message}\n`);
      return err.malformed ? 65 : 66;
    }
    if (err instanceof TlsSetupError) {
      process.stderr.write(`memcached-ts: ${err.message}\n`);
      return 64;
    }
    if (err instanceof UdpBindError) {
      process.stderr.write(`memcached-ts: ${err.message}\n`);
      return 71;
    }
    if (err instanceof RecoveryError || err instanceof ManifestError) {
      process.stderr.write(`memcached-ts: cannot load persistence: ${err.message}\n`);
      return 65;
    }
    if (settings.aof !== null && (err as NodeJS.ErrnoException).syscall !== "listen") {
      process.stderr.write(`memcached-ts: persistence directory ${settings.aof}: ${(err as Error).message}\n`);
      return 74;
    }
    const where = settings.socketPath ?? `${settings.listen.join(",") || "*"}:${settings.port}`;
    process.stderr.write(`memcached-ts: cannot listen on ${where}: ${(err as Error).message}\n`);
    return 71;
  }
  if (settings.pidFile !== null) {
    try {
      writePidFile(settings.pidFile, log);
    } catch (err) {
      // memcached goes on without it too (vperror), but says so.
      log.error({ err: (err as Error).message, path: settings.pidFile }, "could not write the pid file");
    }
  }
  const stop = (): void => void server.close(true);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // As the usual daemons do (memcached has no log file of its own): logrotate moves the file, then HUPs.
  // memcached reloads its -Y file on SIGHUP; a file that does not load leaves the users as they were.
  const auth = server.ctx.auth;
  process.on("SIGHUP", () => {
    reopen();
    log.info({ file: settings.logDestination }, "log file reopened");
    if (auth === null) return;
    try {
      auth.reload();
      log.info({ file: auth.path }, "auth file reloaded");
    } catch (err) {
      log.error({ file: auth.path, err: (err as Error).message }, "auth file not reloaded; the previous users stay");
    }
  });
  await server.stopped;
  if (settings.pidFile !== null) removePidFile(settings.pidFile);
  if (server.closeError !== null) {
    process.stderr.write(`memcached-ts: ${server.closeError.message}\n`);
    return 74;
  }
  return 0;
}

process.exitCode = await main();
