import type { Case, Step } from "../conversation.ts";
import { Op, auth, cat, get, noop, plain, req, set } from "../binary-packets.ts";
import { bin } from "./binary-core.ts";

const sasl = (name: string, steps: Step[]): Case => bin(`sasl ${name}`, steps, { sasl: true });

/** -S: users from the password database (see test/oracle/sasl.ts), PLAIN only. */
export const binarySasl: Case[] = [
  sasl("list mechanisms", [req(Op.saslList, { opaque: 3 })]),
  sasl("auth then commands", [auth("alice", "secret", { opaque: 1 }), set("a", "v"), get("a")]),
  sasl("second user with a space in the password", [auth("bob", "hunter 2"), noop()]),
  sasl("wrong password, then a command closes", [auth("alice", "wrong"), get("a")]),
  sasl("unknown user", [auth("carol", "secret")]),
  sasl("user whose name extends or cuts another's", [auth("alicex", "secret"), auth("alic", "secret")]),
  sasl("password prefix is not enough", [auth("alice", "secre")]),
  sasl("command before auth closes", [get("a"), noop()]),
  sasl("noop before auth closes", [noop()]),
  sasl("version before auth", [req(Op.version), auth("alice", "secret")]),
  sasl("unknown mechanism", [req(Op.saslAuth, { key: "CRAM-MD5", value: "x" })]),
  sasl("mechanism name in lower case", [req(Op.saslAuth, { key: "plain", value: plain("alice", "secret") }), noop()]),
  sasl("mechanism name too long", [cat(req(Op.saslAuth, { key: "P".repeat(33), value: "abc" }), req(Op.version))]),
  sasl("plain without data continues with a step", [req(Op.saslAuth, { key: "PLAIN" }), req(Op.saslStep, { key: "PLAIN", value: plain("alice", "secret") }), noop()]),
  sasl("step without auth", [req(Op.saslStep, { key: "PLAIN", value: plain("alice", "secret") }), req(Op.version)]),
  sasl("authzid of the same user", [req(Op.saslAuth, { key: "PLAIN", value: plain("alice", "secret", "alice") }), noop()]),
  sasl("authzid of another user", [req(Op.saslAuth, { key: "PLAIN", value: plain("alice", "secret", "bob") })]),
  sasl("malformed plain message", [req(Op.saslAuth, { key: "PLAIN", value: "alice" })]),
  sasl("failed re-auth logs out", [auth("alice", "secret"), auth("alice", "bad"), noop()]),
  sasl("auth counters in stats", [auth("alice", "bad"), auth("alice", "secret"), auth("bob", "no"), auth("bob", "hunter 2"), req(Op.stat, { key: "settings" }), req(Op.stat)]),
  sasl("text protocol refused", ["version\r\n"]),
];
