import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SettingsError, helpText, parseCli } from "../../src/settings/cli.ts";
import { type Settings, clientLimit } from "../../src/settings/settings.ts";

function run(argv: string[]): Settings {
  const r = parseCli(argv);
  assert.equal(r.kind, "run");
  if (r.kind !== "run") throw new Error("unreachable");
  return r.settings;
}

test("memcached short and long flags", () => {
  const s = run(["-p", "12000", "-l", "127.0.0.1", "-m", "128", "-c", "100", "-t", "2", "-I", "2m", "-M", "-A", "-vv"]);
  assert.equal(s.port, 12000);
  assert.deepEqual(s.listen, ["127.0.0.1"]);
  assert.equal(s.memoryLimit, 128 * 1024 * 1024);
  assert.equal(s.maxConnections, 100);
  assert.equal(s.threads, 2);
  assert.equal(s.maxItemSize, 2 * 1024 * 1024);
  assert.equal(s.noEvict, true);
  assert.equal(s.enableShutdown, true);
  assert.equal(s.verbosity, 2);
  assert.equal(s.logLevel, "debug");
  const l = run(["--port", "12001", "--conn-limit", "50", "--threads", "3"]);
  assert.equal(l.port, 12001);
  assert.equal(l.maxConnections, 50);
  assert.equal(l.threads, 3);
});

test("Go original aliases and size suffixes", () => {
  const s = run(["--cache-size", "64m", "--max-item-size", "1m", "--log-level", "info", "--log-destination", "/tmp/x.log"]);
  assert.equal(s.memoryLimit, 64 * 1024 * 1024);
  assert.equal(s.maxItemSize, 1024 * 1024);
  assert.equal(s.logLevel, "info");
  assert.equal(s.logDestination, "/tmp/x.log");
  assert.equal(run(["--cache-size", "1g"]).memoryLimit, 1024 ** 3);
});

test("-u and -o relaxed_privileges are accepted and ignored", () => {
  const s = run(["-u", "nobody", "-o", "relaxed_privileges"]);
  assert.equal(s.port, 11211);
});

test("invalid options throw SettingsError", () => {
  for (const argv of [["-l", "fooble"], ["-c", "0"], ["-t", "0"], ["-p", "abc"], ["--nope"], ["-o", "bogus"], ["-I", "10"]]) {
    assert.throws(() => parseCli(argv), SettingsError, argv.join(" "));
  }
});

test("config file: defaults < file < flags", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-cli-"));
  const file = join(dir, "c.json");
  writeFileSync(file, JSON.stringify({ port: 13000, "conn-limit": 70, "cache-size": "32m" }));
  const s = run(["--config", file, "-c", "90"]);
  assert.equal(s.port, 13000);
  assert.equal(s.maxConnections, 90);
  assert.equal(s.memoryLimit, 32 * 1024 * 1024);
  assert.equal(s.threads, 4);
  writeFileSync(file, JSON.stringify({ nope: 1 }));
  assert.throws(() => parseCli(["--config", file]), SettingsError);
  // Found by the fuzzer (seed 1023743138): verbose was read with String() before its type was checked.
  for (const verbose of [{ toString: false }, [1], null]) {
    writeFileSync(file, JSON.stringify({ verbose }));
    assert.throws(() => parseCli(["--config", file]), /invalid value for 'verbose' in config file/);
  }
  writeFileSync(file, JSON.stringify({ verbose: 2 }));
  assert.equal(run(["--config", file]).verbosity, 2);
});

const NODE = "node_modules/.bin/node";

test("main: bad option prints one line on stderr and exits non-zero", () => {
  const r = spawnSync(NODE, ["src/main.ts", "-c", "0"], { encoding: "utf8", timeout: 20000 });
  assert.notEqual(r.status, 0);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /conn-limit/);
});

test("main: --help lists every option with defaults", () => {
  const r = spawnSync(NODE, ["src/main.ts", "--help"], { encoding: "utf8", timeout: 20000 });
  assert.equal(r.status, 0);
  for (const opt of ["--port", "--listen", "--memory-limit", "--conn-limit", "--threads", "--max-item-size", "--config", "--log-level", "--cache-size"]) {
    assert.ok(r.stdout.includes(opt), opt);
  }
  assert.match(r.stdout, /\[11211\]/);
});

test("-o slab_chunk_max and its memcached start-up checks", () => {
  assert.equal(run([]).slabChunkMax, 512 * 1024);
  assert.equal(run(["-I", "4m"]).slabChunkMax, 512 * 1024);
  const small = run(["-I", "1k", "-o", "slab_chunk_max=512"]);
  assert.equal(small.maxItemSize, 1024);
  assert.equal(small.slabChunkMax, 512);
  assert.equal(run(["-I", "2m", "-o", "slab_chunk_max=1048576"]).slabChunkMax, 1048576);
  const refused: [string[], RegExp][] = [
    [["-I", "100k"], /cannot be larger than -I/],
    [["-I", "1000k"], /evenly divisible by slab_chunk_max/],
    [["-o", "slab_chunk_max=300000"], /evenly divisible/],
    [["-I", "4m", "-o", "slab_chunk_max=2097152"], /not in 1\.\.1048576/],
    [["-I", "3k", "-o", "slab_chunk_max=3072"], /divide evenly into 1048576/],
    [["-o", "slab_chunk_max=16k"], /not a number/],
    [["-o", "slab_chunk_max"], /not a number/],
  ];
  for (const [argv, message] of refused) assert.throws(() => parseCli(argv), message, argv.join(" "));
});

test("-o temporary_ttl turns the temporary LRU on, as in memcached", () => {
  assert.equal(run([]).temporaryLru, false);
  assert.equal(run([]).temporaryTtl, 61);
  const s = run(["-o", "temporary_ttl=100,hot_lru_pct=30,warm_lru_pct=30"]);
  assert.equal(s.temporaryLru, true);
  assert.equal(s.temporaryTtl, 100);
  assert.equal(s.hotLruPct, 30);
  assert.equal(s.warmLruPct, 30);
  assert.throws(() => parseCli(["-o", "hot_lru_pct=50,warm_lru_pct=50"]), /80% combined/);
  assert.throws(() => parseCli(["-o", "temporary_ttl=-1"]), SettingsError);
  assert.throws(() => parseCli(["-o", "hot_lru_pct=80"]), /1\.\.79/);
  assert.throws(() => parseCli(["-o", "warm_lru_pct=80"]), /1\.\.79/);
  assert.equal(run(["-o", "hot_lru_pct=1,warm_lru_pct=79"]).hotLruPct, 1);
});

test("--help documents slab_chunk_max", () => {
  const r = parseCli(["--help"]);
  assert.equal(r.kind, "help");
  if (r.kind === "help") assert.match(r.text, /slab_chunk_max=BYTES/);
});

test("-c reserves file descriptors per thread as memcached does", () => {
  assert.equal(clientLimit(run([])), 1000);
  assert.equal(clientLimit(run(["-c", "26"])), 2);
  assert.equal(clientLimit(run(["-c", "20", "-t", "2"])), 4);
  assert.throws(() => parseCli(["-c", "24"]), /leaves no room for clients/);
  assert.throws(() => parseCli(["-c", "16", "-t", "2"]), /leaves no room/);
});

test("-o LRU tuning: hot/warm max factors and slab_automove", () => {
  const r = parseCli(["-o", "hot_max_factor=0.5,warm_max_factor=3,slab_automove=0"]);
  assert.equal(r.kind, "run");
  if (r.kind !== "run") return;
  assert.equal(r.settings.hotMaxFactor, 0.5);
  assert.equal(r.settings.warmMaxFactor, 3);
  assert.equal(r.settings.slabAutomove, 0);
  assert.throws(() => parseCli(["-o", "hot_max_factor=0"]), /hot_max_factor/);
  assert.throws(() => parseCli(["-o", "warm_max_factor=abc"]), /warm_max_factor/);
  assert.throws(() => parseCli(["-o", "slab_automove=3"]), /slab_automove/);
});

test("persistence flags, with the Go original's single-dash spellings and sync periods", () => {
  const s = run(["--aof", "/tmp/p", "--sync", "always", "--compact-ratio", "1.5", "--compact-min-size", "8m", "--snapshot-interval", "60", "--snapshot-on-shutdown", "--fix-corrupted"]);
  assert.equal(s.aof, "/tmp/p");
  assert.equal(s.sync, "always");
  assert.equal(s.compactRatio, 1.5);
  assert.equal(s.compactMinSize, 8 * 1024 * 1024);
  assert.equal(s.snapshotInterval, 60);
  assert.equal(s.snapshotOnShutdown, true);
  assert.equal(s.fixCorrupted, true);
  const go = run(["-aof-name", "./memcached.aof", "-sync", "2s", "-buf-size", "1m", "-fix-corrupted"]);
  assert.equal(go.aof, "./memcached.aof");
  assert.equal(go.sync, "everysec");
  assert.equal(go.syncPeriodMs, 2000);
  assert.equal(go.aofBufSize, 1024 * 1024);
  assert.equal(go.fixCorrupted, true);
  assert.equal(run(["--sync=500ms"]).syncPeriodMs, 500);
  assert.equal(run(["-sync=0s"]).sync, "always");
  assert.equal(run([]).aof, null);
  assert.equal(run([]).sync, "everysec");
  assert.throws(() => parseCli(["--sync", "sometimes"]), SettingsError);
  assert.throws(() => parseCli(["--sync", "5ms"]), SettingsError);
  assert.throws(() => parseCli(["--aof", ""]), SettingsError);
  // memcached's own short flags are untouched by the Go spellings: -s is still the socket.
  assert.equal(run(["-s", "/tmp/sock"]).socketPath, "/tmp/sock");
});

test("persistence config file keys are the long option names", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcts-cfg-"));
  const file = join(dir, "c.json");
  writeFileSync(file, JSON.stringify({ aof: "/tmp/q", sync: "no", "snapshot-interval": 30, "aof-name": "/tmp/r" }));
  const s = run(["--config", file]);
  assert.equal(s.aof, "/tmp/r");
  assert.equal(s.sync, "no");
  assert.equal(s.snapshotInterval, 30);
});

/** memcached's own message for the same arguments (it checks them before anything else). */
function memcachedError(args: string[]): string {
  return spawnSync("memcached", args, { encoding: "utf8" }).stderr.trim();
}

test("-B picks the protocols; bad values and -S with ASCII fail with memcached's messages", () => {
  assert.equal(run([]).protocol, "auto");
  assert.equal(run(["-B", "ascii"]).protocol, "ascii");
  assert.equal(run(["--protocol", "binary"]).protocol, "binary");
  assert.equal(run(["-B", "auto"]).protocol, "auto");
  for (const args of [["-B", "foo"], ["-B", ""], ["-S", "-B", "ascii"], ["-S", "-B", "auto"]]) {
    assert.throws(() => parseCli(args), (err: Error) => err instanceof SettingsError && err.message === memcachedError(args), args.join(" "));
  }
});

test("-S forces the binary protocol and takes the password file from MEMCACHED_SASL_PWDB", () => {
  const r = parseCli(["-S"], { MEMCACHED_SASL_PWDB: "/etc/pw" });
  assert.equal(r.kind, "run");
  if (r.kind !== "run") return;
  assert.equal(r.settings.sasl, true);
  assert.equal(r.settings.protocol, "binary");
  assert.equal(r.settings.saslPwdb, "/etc/pw");
  const b = parseCli(["-S", "-B", "binary"], {});
  assert.equal(b.kind === "run" && b.settings.saslPwdb, null);
});

test("-Y names the auth file and implies ASCII; -B binary or auto with it fail with memcached's message", () => {
  const s = run(["-Y", "/etc/mc-users"]);
  assert.equal(s.authFile, "/etc/mc-users");
  assert.equal(s.protocol, "ascii");
  assert.equal(run(["--auth-file=/etc/mc-users", "-B", "ascii"]).authFile, "/etc/mc-users");
  assert.equal(run([]).authFile, null);
  // memcached checks -S first; with both and no -B the connections are ASCII with the file.
  const both = run(["-S", "-Y", "/etc/mc-users"]);
  assert.equal(both.protocol, "ascii");
  assert.equal(both.sasl, true);
  for (const args of [["-Y", "/etc/mc-users", "-B", "binary"], ["-Y", "/etc/mc-users", "-B", "auto"], ["-S", "-Y", "/etc/mc-users", "-B", "ascii"]]) {
    assert.throws(() => parseCli(args), (err: Error) => err instanceof SettingsError && err.message === memcachedError(args), args.join(" "));
  }
});

test("memcached flags with their meaning: -C -P -X -W -N, -o switches", () => {
  const s = run(["-C", "-P", "/tmp/mc.pid", "-X", "-W", "-t", "2", "-N", "2", "-o", "hashpower=20,idle_timeout=30,tail_repair_time=15,hash_algorithm=jenkins,no_maxconns_fast"]);
  assert.equal(s.useCas, false);
  assert.equal(s.pidFile, "/tmp/mc.pid");
  assert.equal(s.dumpEnabled, false);
  assert.equal(s.napiIds, 2);
  assert.equal(s.hashPowerInit, 20);
  assert.equal(s.idleTimeout, 30);
  assert.equal(s.tailRepairTime, 15);
  assert.equal(s.hashAlgorithm, "jenkins");
  assert.equal(s.maxconnsFast, false);
});

test("-o no_modern sets memcached 1.4's defaults; later switches and an explicit slab_chunk_max win", () => {
  const s = run(["-o", "no_modern"]);
  assert.deepEqual(
    [s.slabChunkMax, s.slabReassign, s.slabAutomove, s.maxconnsFast, s.lruMaintainer, s.lruCrawler, s.hashAlgorithm],
    [1024 * 1024, false, 0, false, false, false, "jenkins"],
  );
  const t = run(["-o", "slab_chunk_max=262144,no_modern,lru_maintainer,slab_reassign"]);
  assert.deepEqual([t.slabChunkMax, t.lruMaintainer, t.slabReassign, t.slabAutomove], [262144, true, true, 0]);
  assert.equal(run(["-o", "modern"]).lruMaintainer, true);
  assert.equal(run(["-o", "no_lru_maintainer"]).lruMaintainer, false);
  assert.equal(run(["-o", "no_slab_reassign"]).slabReassign, false);
});

test("flags we do not support are refused with one line saying why; bad values with memcached's message", () => {
  const cases: [string[], RegExp][] = [
    [["-d"], /-d \(daemon\) is not supported: .*service manager/],
    [["-k"], /-k \(lock memory\) is not supported/],
    [["-e", "/tmp/f"], /-e \(memory file\) is not supported: use --aof/],
    [["-o", "ext_path=/tmp/x:1G"], /extended option 'ext_path' is not supported: .*extstore/],
    [["-o", "ext_item_size=100"], /'ext_item_size' is not supported/],
    [["-N", "0"], /^Maximum number of NAPI IDs must be greater than 0$/],
    [["-N", "5"], /^Number of napi_ids\(5\) cannot be greater than number of threads\(4\)$/],
    [["-o", "hashpower=5"], /^Initial hashtable multiplier of 5 is too low$/],
    [["-o", "hashpower=33"], /^Initial hashtable multiplier of 33 is too high$/],
    [["-o", "hashpower=32"], /^Initial hashtable multiplier of 32 is too high for memcached-ts: at most 31/],
    [["-o", "idle_timeout"], /^Missing numeric argument for idle_timeout$/],
    [["-o", "tail_repair_time=5"], /^Cannot set tail_repair_time to less than 10 seconds$/],
    [["-o", "hash_algorithm=md5"], /^Unknown hash_algorithm option \(jenkins, murmur3, xxh3\)$/],
    [["-o", "slab_sizes=100-200"], /'slab_sizes' is not supported: the classes come from -n, -f and slab_chunk_max/],
    [["-o", "sock_cookie_id=1"], /'sock_cookie_id' is not supported: Node cannot set SO_MARK/],
    [["-o", "worker_logbuf_size=64"], /'worker_logbuf_size' is not supported/],
    [["-o", "ssl_kernel_tls"], /'ssl_kernel_tls' is not supported/],
    [["-o", "ssl_session_cache"], /'ssl_session_cache' is not supported/],
    [["-o", "ssl_keyformat=2"], /only 1 \(PEM\) is supported/],
    [["-o", "bogus"], /^Illegal suboption "bogus"$/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseCli(argv), (err: Error) => err instanceof SettingsError && message.test(err.message), argv.join(" "));
  }
});

test("--help says -t is accepted but not yet used", () => {
  const r = parseCli(["--help"]);
  assert.equal(r.kind, "help");
  if (r.kind === "help") assert.match(r.text, /--threads <NUM> +number of threads: accepted, .*one thread for now/);
});

test("-l adds to the list as memcached does, with notls: prefixes and :port suffixes; -Z and ssl_* options", () => {
  const s = run(["-l", "127.0.0.1", "-l", "[::1]:11300,notls:10.0.0.1:11400", "-Z", "-o", "ssl_chain_cert=/c.pem,ssl_key=/k.pem,ssl_ca_cert=/ca.pem,ssl_verify_mode=2,ssl_min_version=3,ssl_ciphers=HIGH"]);
  assert.deepEqual(s.listen, ["127.0.0.1", "[::1]:11300", "notls:10.0.0.1:11400"]);
  assert.deepEqual(s.tls, { enabled: true, chainCert: "/c.pem", key: "/k.pem", caCert: "/ca.pem", verifyMode: 2, minVersion: 3, ciphers: "HIGH", wbufSize: 16384 });
  assert.equal(run(["-Z", "-o", "ssl_chain_cert=/c.pem,ssl_min_version=tlsv1.3"]).tls.minVersion, 3);
  const cases: [string[], RegExp][] = [
    [["-l", "notls:127.0.0.1"], /^'notls' option is valid only when SSL is enabled$/],
    [["-Z"], /-Z needs a certificate: -o ssl_chain_cert=FILE/],
    [["-Z", "-o", "ssl_chain_cert=/c.pem,ssl_verify_mode=4"], /^Invalid ssl_verify_mode\. Use help to see valid options\.$/],
    [["-Z", "-o", "ssl_chain_cert=/c.pem,ssl_min_version=9"], /^Invalid ssl_min_version\. Use help to see valid options\.$/],
    [["-l", "127.0.0.1:99999"], /invalid listen address/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseCli(argv), (err: Error) => err instanceof SettingsError && message.test(err.message), argv.join(" "));
  }
});

test("-U: a UDP port, 0 (off) by default as in memcached 1.6; without -p it moves the TCP port too", () => {
  const d = run([]);
  assert.equal(d.udpPort, 0);
  assert.equal(d.port, 11211);
  const u = run(["-U", "11311"]);
  assert.equal(u.udpPort, 11311);
  assert.equal(u.port, 11311);
  for (const argv of [["-U", "11311", "-p", "12000"], ["-p", "12000", "--udp-port", "11311"]]) {
    const s = run(argv);
    assert.deepEqual([s.udpPort, s.port], [11311, 12000], argv.join(" "));
  }
  assert.equal(run(["-U", "0"]).port, 11211);
  for (const v of ["65536", "x", "-1", ""]) assert.throws(() => parseCli(["-U", v]), SettingsError, v);
  assert.throws(() => parseCli(["-S", "-U", "11311"]), (err: Error) => err.message === "ERROR: Cannot enable UDP while using binary SASL authentication.");
  assert.match(helpText(), /-U, --udp-port <NUM> +UDP port to listen on, 0 = off.*spoofed request.* \[0\]/);
});
