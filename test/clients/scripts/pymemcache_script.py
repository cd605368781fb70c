"""The client matrix's script (test/clients/script.ts describes it) driven by pymemcache.

Usage: python3 pymemcache_script.py PORT. Prints one JSON object; the test runs this against
memcached-ts and a real memcached and compares the two.
"""
import hashlib
import json
import sys

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheClientError, MemcacheServerError

port = int(sys.argv[1])
c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5)
other = Client(("127.0.0.1", port), connect_timeout=5, timeout=5)
out = {}


def text(v):
    return None if v is None else v.decode("latin-1")


def attempt(fn):
    """The call's result, or "error" where the server answered CLIENT_ERROR/SERVER_ERROR."""
    try:
        return fn()
    except (MemcacheClientError, MemcacheServerError):
        return "error"


# noreply=False everywhere: pymemcache's default for set/delete/... is noreply=True, which
# hides the server's answer (a known pymemcache quirk: set() then returns True whatever happened).
c.set("greeting", "hello", noreply=False)
out["basic"] = {
    "get": text(c.get("greeting")),
    "missing": text(c.get("no-such-key")),
    "add_existing": c.add("greeting", "x", noreply=False),
    "replace_missing": c.replace("no-such-key", "x", noreply=False),
    "append": c.append("greeting", " world", noreply=False) and text(c.get("greeting")),
    "prepend": c.prepend("greeting", "oh, ", noreply=False) and text(c.get("greeting")),
    "delete": c.delete("greeting", noreply=False),
    "delete_missing": c.delete("greeting", noreply=False),
}

c.set("m:a", "1", noreply=False)
c.set("m:b", "2", noreply=False)
c.set("m:c", "3", noreply=False)
out["multi"] = {k: text(v) for k, v in sorted(c.get_many(["m:a", "m:b", "m:nope", "m:c"]).items())}

# CAS loop: read, compute, cas until it sticks; another client writes between the first read
# and its cas, so the first cas must fail.
c.set("counter", "10", noreply=False)
retries = 0
while retries <= 5:
    value, token = c.gets("counter")
    if retries == 0:
        other.set("counter", "20", noreply=False)
    if c.cas("counter", str(int(value) + 1), token, noreply=False):
        break
    retries += 1
_, stale = c.gets("counter")
final = text(c.get("counter"))
other.set("counter", "0", noreply=False)
# pymemcache's cas(): True stored, False exists (token stale), None not found.
CAS = {True: "stored", False: "exists", None: "not_found"}
out["cas"] = {
    "retries": retries,
    "final": final,
    "stale_token": CAS[c.cas("counter", "x", stale, noreply=False)],
    "missing": CAS[c.cas("cas-missing", "x", stale, noreply=False)],
}

c.set("n", "10", noreply=False)
c.set("max", "18446744073709551615", noreply=False)
c.set("word", "abc", noreply=False)
out["counters"] = {
    "incr": c.incr("n", 5),
    "decr_floor": c.decr("n", 20),
    "incr_missing": c.incr("no-such-key", 1),
    "wrap": c.incr("max", 1),
    "non_numeric": attempt(lambda: c.incr("word", 1)),
    "decr_to": [c.incr("n", 7), c.decr("n", 3)],
}

c.set("t", "v", noreply=False)
out["touch"] = {
    "existing": c.touch("t", 100, noreply=False),
    "missing": c.touch("no-such-key", 100, noreply=False),
    # A negative exptime expires the item at once.
    "expired_by_touch": [c.touch("t", -1, noreply=False), text(c.get("t"))],
}

LIMIT = 1024 * 1024
near = bytes(i * 7 % 251 for i in range(LIMIT - 1024))
over = b"o" * (LIMIT + 1)
near_stored = c.set("large", near, noreply=False)
got = c.get("large")
out["large"] = {
    "near_limit_stored": near_stored,
    "near_limit_intact": got == near,
    "over_limit_stored": attempt(lambda: c.set("large-over", over, noreply=False)),
    "over_limit_missing": c.get("large-over") is None,
    "connection_ok_after": c.get("large") == near,
}

every = bytes(range(256))
c.set("binary", every, noreply=False)
got = c.get("binary")
out["binary"] = {"intact": got == every, "length": len(got or b"")}

N = 3000
values = {f"many:{i}": f"value-{i}-".encode() * (i % 7 + 1) for i in range(N)}
failed = c.set_many(values, noreply=False)
fetched = c.get_many(list(values))
out["many"] = {
    "set_failed": len(failed),
    "hits": len(fetched),
    "intact": all(fetched.get(k) == v for k, v in values.items()),
    "digest": hashlib.sha256(b"".join(fetched.get(k, b"-") for k in values)).hexdigest()[:16],
    "delete_many": c.delete_many(list(values)[: N // 2], noreply=False),
    "after_delete": len(c.get_many(list(values))),
}

print(json.dumps(out, sort_keys=True))
