import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTcp } from "node:net";
import { before, describe, test } from "node:test";
import { connect } from "node:tls";
import { freePort, startOurs, waitConnectable } from "../oracle/servers.ts";

const OPENSSL = "/usr/bin/openssl";
const skip = existsSync(OPENSSL) ? false : "needs /usr/bin/openssl to make certificates";

/** A CA, a server certificate it signed, a client certificate it signed and a self-signed one it did not. */
function makeCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), "mcts-tls-"));
  const ssl = (...args: string[]): void => void execFileSync(OPENSSL, args, { cwd: dir, stdio: "ignore" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
  for (const name of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2");
  }
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem", "-days", "2", "-subj", "/CN=rogue");
  // memcached, run as nobody, must read them too.
  chmodSync(dir, 0o755);
  for (const f of ["ca.pem", "server.pem", "server.key"]) chmodSync(join(dir, f), 0o644);
  return dir;
}

/** Sends `request` over TLS (with a client certificate if given); the reply, or how the connection failed. */
function askTls(port: number, request: string, until: string, dir: string, client?: "client" | "rogue"): Promise<string> {
  return new Promise((resolve) => {
    const cert = client === undefined ? {} : { cert: readFileSync(join(dir, `${client}.pem`)), key: readFileSync(join(dir, `${client}.key`)) };
    const s = connect({ port, host: "127.0.0.1", ca: readFileSync(join(dir, "ca.pem")), servername: "server", checkServerIdentity: () => undefined, ...cert });
    let got = "";
    const done = (r: string): void => {
      s.destroy();
      resolve(r);
    };
    s.on("secureConnect", () => s.write(request));
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.endsWith(until)) done(got);
    });
    // TLS 1.3 reports a rejected client certificate after the handshake, as an alert or a close.
    s.on("error", () => done(`failed${got === "" ? "" : `: ${got}`}`));
    s.on("close", () => done(got === "" ? "failed" : got));
    setTimeout(() => done(`timeout: ${got}`), 3000).unref();
  });
}

async function startMemcachedTls(args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const child = spawn("memcached", [...user, "-U", "0", "-l", "127.0.0.1", "-p", String(port), ...args], { stdio: "ignore" });
  await waitConnectable(port, Date.now() + 5000);
  return { port, child };
}

/**
 * The TLS lines of `stats settings` and `stats`. Whether memcached counts a refused client
 * certificate in ssl_handshake_errors depends on when the client first writes (openssl
 * s_client: never counted; Node's client: sometimes), so only the line's presence is compared.
 */
const sslLines = (stats: string): string =>
  stats
    .split("\r\n")
    .filter((l) => /^STAT (ssl_|time_since_server_cert)/.test(l))
    .map((l) => l.replace(/(time_since_server_cert_refresh|ssl_handshake_errors) \d+/, "$1 *"))
    .join("\n");

describe("TLS (-Z) against memcached", { skip }, () => {
  let dir = "";
  before(() => {
    dir = makeCertificates();
  });
  const tlsArgs = (mode: number): string[] => ["-Z", "-o", `ssl_chain_cert=${join(dir, "server.pem")},ssl_key=${join(dir, "server.key")},ssl_ca_cert=${join(dir, "ca.pem")},ssl_verify_mode=${mode}`];

  for (const mode of [0, 1, 2]) {
    test(`ssl_verify_mode=${mode}: no client certificate, a valid one, one from another CA`, async () => {
      const oracle = await startMemcachedTls(tlsArgs(mode));
      const ours = await startOurs(tlsArgs(mode));
      try {
        for (const client of [undefined, "client", "rogue"] as const) {
          const [expected, actual] = await Promise.all([askTls(oracle.port, "version\r\n", "\r\n", dir, client), askTls(ours.port, "version\r\n", "\r\n", dir, client)]);
          assert.equal(actual, expected, `client certificate: ${client ?? "none"}`);
        }
        const [expected, actual] = await Promise.all([
          askTls(oracle.port, "stats settings\r\nstats\r\n", "END\r\nEND\r\n", dir, "client"),
          askTls(ours.port, "stats settings\r\nstats\r\n", "END\r\nEND\r\n", dir, "client"),
        ]);
        assert.equal(sslLines(actual), sslLines(expected));
      } finally {
        oracle.child.kill("SIGKILL");
        await ours.stop();
      }
    });
  }

  test("notls: listener serves plain TCP beside the TLS one", async () => {
    const [tlsPort, plainPort] = [await freePort(), await freePort()];
    const ours = await startOurs([...tlsArgs(0), "-p", String(tlsPort), "-l", `notls:127.0.0.1:${plainPort}`]);
    try {
      assert.equal(await askTls(tlsPort, "version\r\n", "\r\n", dir), "VERSION 1.6.18\r\n");
      const plain = await new Promise<string>((resolve) => {
        const s = connectTcp(plainPort, "127.0.0.1", () => s.write("version\r\n"));
        s.on("data", (d: Buffer) => {
          s.destroy();
          resolve(d.toString("latin1"));
        });
      });
      assert.equal(plain, "VERSION 1.6.18\r\n");
    } finally {
      await ours.stop();
    }
  });
});
