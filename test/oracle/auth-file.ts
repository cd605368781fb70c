import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Writes an auth file (-Y) both servers can read: memcached started as root drops to nobody
 * before it reads the file, so the directory and the file are readable by all.
 */
export function writeAuthFile(contents: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), "mcts-auth-"));
  chmodSync(dir, 0o755);
  const path = join(dir, "users");
  writeFileSync(path, contents, { mode: 0o644 });
  return path;
}
