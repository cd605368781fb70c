/**
 * The suite drives Debian packages: the memcached oracle (with SASL users), libmemcached's
 * tools, twemproxy, the Python and PHP clients, a C compiler. `.ci/run --deps` holds their list
 * and installs the missing ones; as root on Debian this runs it, so `npm test` works on a fresh
 * machine. Anywhere else a missing oracle fails here with the command to run, so the oracle
 * tests never skip silently (each client test names its own package when that is missing).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = process.getuid?.() === 0;
const apt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
if (root && apt) {
  const script = fileURLToPath(new URL("../../.ci/run", import.meta.url));
  const r = spawnSync("bash", [script, "--deps"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (spawnSync("memcached", ["-V"], { stdio: "ignore" }).status !== 0) {
  process.stderr.write(
    "memcached is required by the conformance tests and is not installed.\n" +
      "Install the test dependencies (Debian/Ubuntu, as root: bash .ci/run --deps) and run the tests again.\n",
  );
  process.exit(1);
}
