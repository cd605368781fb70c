/**
 * The conformance suite compares replies with a real memcached. This makes sure one is
 * installed: as root on Debian it installs the package itself; anywhere else it fails with
 * the command to run, so the oracle tests never skip silently.
 */
import { execFileSync, spawnSync } from "node:child_process";

function have(): boolean {
  return spawnSync("memcached", ["-V"], { stdio: "ignore" }).status === 0 && spawnSync("saslpasswd2", ["-v"], { stdio: "ignore" }).error === undefined;
}

if (!have()) {
  const root = process.getuid?.() === 0;
  const apt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (root && apt) {
    process.stderr.write("memcached (the test oracle) is missing: installing Debian's package\n");
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "memcached", "libmemcached-tools", "sasl2-bin"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  if (!have()) {
    process.stderr.write(
      "memcached is required by the conformance tests and is not installed.\n" +
        "Install it (Debian/Ubuntu: sudo apt-get install -y memcached libmemcached-tools sasl2-bin) and run the tests again.\n",
    );
    process.exit(1);
  }
}
