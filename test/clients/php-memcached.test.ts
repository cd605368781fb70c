import assert from "node:assert/strict";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { againstBoth, binaryScriptExpected, requireCommand, runJsonScript, scriptExpected } from "./script.ts";

// PHP's memcached extension (libmemcached 1.1 underneath), once per protocol: the script's first
// argument picks Memcached::OPT_BINARY_PROTOCOL. Quirks the script works around, named there:
// values over 2000 bytes are compressed by default, and append/prepend are refused while
// compression is on.
const script = fileURLToPath(new URL("scripts/php_memcached_script.php", import.meta.url));

before(() =>
  requireCommand(["php", "-r", 'exit(extension_loaded("memcached") ? 0 : 1);'], "PHP with the memcached extension (Debian php-cli php-memcached)"),
);

test("PHP memcached (text protocol): the client script gives memcached's results", async () => {
  const { ours, control } = await againstBoth((port) => runJsonScript("php", [script, "text"], port));
  assert.deepEqual(ours, control);
  assert.deepEqual(control, scriptExpected);
});

test("PHP memcached (binary protocol): the client script gives memcached's results", async () => {
  // Both servers speak only the binary protocol (-B binary): a text command would be refused.
  const { ours, control } = await againstBoth((port) => runJsonScript("php", [script, "binary"], port), ["-B", "binary"]);
  assert.deepEqual(ours, control);
  // libmemcached sends touch($key, -1) as 0xffffffff: see binaryScriptExpected.
  assert.deepEqual(control, binaryScriptExpected);
});
