import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

// The objects every request touches must keep V8's fast properties: one in dictionary mode
// turns each property read on it into a hash lookup through a generic stub. The server
// context did, for as long as it was an object literal with an accessor. Checked with V8's
// own %HasFastProperties, in a child started with --allow-natives-syntax.
const SCRIPT = `
import { connect } from "node:net";
import { parseCli } from "./src/settings/cli.ts";
import { startServer } from "./src/server/server.ts";
import { silentLogger } from "./src/log.ts";
const fast = new Function("o", "return %HasFastProperties(o)");
const parsed = parseCli(["-p", "0", "-l", "127.0.0.1", "-U", "0"]);
const server = await startServer(parsed.settings, silentLogger());
const socket = connect(server.port, "127.0.0.1");
await new Promise((resolve) => {
  socket.once("data", resolve);
  socket.write("set k 0 0 1\\r\\nv\\r\\nget k\\r\\n");
});
const ctx = server.ctx;
const conn = [...ctx.connections()].find((c) => c.readMode !== null);
const objects = {
  ctx, settings: ctx.settings, cache: ctx.cache, engine: ctx.engine, counters: ctx.counters,
  prefixStats: ctx.prefixStats, connection: conn, session: conn.session, out: conn.out,
  writer: conn.writer, writes: conn.session.writes, tokens: conn.session.tokens,
};
console.log(JSON.stringify(Object.fromEntries(Object.entries(objects).map(([k, o]) => [k, fast(o)]))));
socket.destroy();
await server.close();
`;

test("the objects a request touches keep V8's fast properties", () => {
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", SCRIPT], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, boolean>;
  assert.equal(Object.keys(result).length, 12, r.stdout);
  assert.deepEqual(Object.entries(result).filter(([, isFast]) => !isFast), [], r.stdout);
});
