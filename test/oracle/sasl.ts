import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The users both servers know in SASL tests. */
export const SASL_USERS: readonly { user: string; password: string }[] = [
  { user: "alice", password: "secret" },
  { user: "bob", password: "hunter 2" },
];

export interface SaslSetup {
  /** For memcached: Debian builds it with Cyrus SASL, which reads a config and a sasldb. */
  oracleEnv: Record<string, string>;
  /** For memcached-ts: the password file memcached reads when built with its own pwdb. */
  oursEnv: Record<string, string>;
  pwdbPath: string;
}

let setup: SaslSetup | null | undefined;

/**
 * Makes (once per process) the same users for both servers. memcached's Debian build has no
 * MEMCACHED_SASL_PWDB support, so it gets a Cyrus config (`mech_list: plain`) and a sasldb made
 * with saslpasswd2 (package sasl2-bin); null when that tool is missing. The files are readable
 * by all, since memcached started as root runs as nobody.
 */
export function saslSetup(): SaslSetup | null {
  if (setup !== undefined) return setup;
  const dir = mkdtempSync(join(tmpdir(), "mcts-sasl-"));
  chmodSync(dir, 0o755);
  const sasldb = join(dir, "sasldb2");
  for (const { user, password } of SASL_USERS) {
    const r = spawnSync("saslpasswd2", ["-p", "-c", "-a", "memcached", "-f", sasldb, user], { input: password });
    if (r.error !== undefined || r.status !== 0) return (setup = null);
  }
  chmodSync(sasldb, 0o644);
  writeFileSync(join(dir, "memcached.conf"), `mech_list: plain\nsasldb_path: ${sasldb}\n`, { mode: 0o644 });
  const pwdbPath = join(dir, "pwdb");
  writeFileSync(pwdbPath, `${SASL_USERS.map((u) => `${u.user}:${u.password}`).join("\n")}\n`, { mode: 0o644 });
  return (setup = { oracleEnv: { SASL_CONF_PATH: dir }, oursEnv: { MEMCACHED_SASL_PWDB: pwdbPath }, pwdbPath });
}
