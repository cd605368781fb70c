import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { before, test } from "node:test";
import { againstBoth, requireCommand, runJsonScript, scriptExpected } from "./script.ts";

// Debian's python3-pymemcache installs for the system Python, not for a python3 earlier on PATH.
const python = "/usr/bin/python3";
const script = fileURLToPath(new URL("scripts/pymemcache_script.py", import.meta.url));

before(() => requireCommand([python, "-c", "import pymemcache"], "pymemcache (Debian python3-pymemcache)"));

test("pymemcache: the client script gives memcached's results", async () => {
  const { ours, control } = await againstBoth((port) => runJsonScript(python, [script], port));
  assert.deepEqual(ours, control);
  assert.deepEqual(control, scriptExpected);
});
