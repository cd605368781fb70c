<?php
// The client matrix's script (test/clients/script.ts describes it) driven by PHP's memcached
// extension (libmemcached underneath). Usage: php php_memcached_script.php text|binary PORT.
// Prints one JSON object; the test compares a run against memcached-ts with one against memcached.

function client(bool $binary, int $port): Memcached {
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
    // The extension compresses values over 2000 bytes by default (flag bit set, zlib body), and
    // refuses append/prepend while compression is on: off, so the near-limit value is a real 1 MiB.
    $m->setOption(Memcached::OPT_COMPRESSION, false);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 5000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 5000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 5000000);
    $m->addServer('127.0.0.1', $port);
    return $m;
}

if ($argc !== 3 || !in_array($argv[1], ["text", "binary"], true)) {
    fwrite(STDERR, "usage: php php_memcached_script.php text|binary PORT\n");
    exit(2);
}
$binary = $argv[1] === "binary";
$port = (int)$argv[2];
$c = client($binary, $port);
$other = client($binary, $port);

/** A get's value, null on a miss (the extension returns false and sets RES_NOTFOUND). */
function value(Memcached $m, string $key): ?string {
    $v = $m->get($key);
    return ($v === false && $m->getResultCode() === Memcached::RES_NOTFOUND) ? null : $v;
}

/** An arithmetic result: the number, null when the key is missing, "error" when refused. */
function arith(Memcached $m, $result) {
    if ($result !== false) return $result;
    return $m->getResultCode() === Memcached::RES_NOTFOUND ? null : "error";
}

function casResult(Memcached $m, bool $ok): string {
    if ($ok) return "stored";
    return match ($m->getResultCode()) {
        Memcached::RES_DATA_EXISTS => "exists",
        Memcached::RES_NOTFOUND => "not_found",
        default => "error " . $m->getResultMessage(),
    };
}

$out = [];
$c->set("greeting", "hello");
$out["basic"] = [
    "get" => value($c, "greeting"),
    "missing" => value($c, "no-such-key"),
    "add_existing" => $c->add("greeting", "x"),
    "replace_missing" => $c->replace("no-such-key", "x"),
    "append" => $c->append("greeting", " world") ? value($c, "greeting") : false,
    "prepend" => $c->prepend("greeting", "oh, ") ? value($c, "greeting") : false,
    "delete" => $c->delete("greeting"),
    "delete_missing" => $c->delete("greeting"),
];

$c->set("m:a", "1");
$c->set("m:b", "2");
$c->set("m:c", "3");
$multi = $c->getMulti(["m:a", "m:b", "m:nope", "m:c"]);
ksort($multi);
$out["multi"] = (object)$multi;

// CAS loop: read, compute, cas until it sticks; another connection writes between the first
// read and its cas, so the first cas must fail.
$c->set("counter", "10");
$retries = 0;
while ($retries <= 5) {
    $got = $c->get("counter", null, Memcached::GET_EXTENDED);
    if ($retries === 0) $other->set("counter", "20");
    if ($c->cas($got["cas"], "counter", (string)((int)$got["value"] + 1))) break;
    $retries++;
}
$stale = $c->get("counter", null, Memcached::GET_EXTENDED)["cas"];
$final = value($c, "counter");
$other->set("counter", "0");
$out["cas"] = [
    "retries" => $retries,
    "final" => $final,
    "stale_token" => casResult($c, $c->cas($stale, "counter", "x")),
    "missing" => casResult($c, $c->cas($stale, "cas-missing", "x")),
];

$c->set("n", "10");
$c->set("max", "18446744073709551615");
$c->set("word", "abc");
$out["counters"] = [
    "incr" => arith($c, $c->increment("n", 5)),
    "decr_floor" => arith($c, $c->decrement("n", 20)),
    "incr_missing" => arith($c, $c->increment("no-such-key", 1)),
    "wrap" => arith($c, $c->increment("max", 1)),
    "non_numeric" => arith($c, $c->increment("word", 1)),
    "decr_to" => [arith($c, $c->increment("n", 7)), arith($c, $c->decrement("n", 3))],
];

$c->set("t", "v");
$out["touch"] = [
    "existing" => $c->touch("t", 100),
    "missing" => $c->touch("no-such-key", 100),
    // A negative exptime expires the item at once.
    "expired_by_touch" => [$c->touch("t", -1), value($c, "t")],
];

$limit = 1024 * 1024;
$near = "";
for ($i = 0; $i < $limit - 1024; $i++) $near .= chr($i * 7 % 251);
$nearStored = $c->set("large", $near);
$overStored = $c->set("large-over", str_repeat("o", $limit + 1));
$out["large"] = [
    "near_limit_stored" => $nearStored,
    "near_limit_intact" => value($c, "large") === $near,
    "over_limit_stored" => $overStored ? true : "error",
    "over_limit_missing" => value($c, "large-over") === null,
    "connection_ok_after" => value($c, "large") === $near,
];

$every = "";
for ($i = 0; $i < 256; $i++) $every .= chr($i);
$c->set("binary", $every);
$got = value($c, "binary");
$out["binary"] = ["intact" => $got === $every, "length" => strlen($got ?? "")];

$n = 3000;
$values = [];
for ($i = 0; $i < $n; $i++) $values["many:$i"] = str_repeat("value-$i-", $i % 7 + 1);
$setOk = $c->setMulti($values);
$fetched = $c->getMulti(array_keys($values));
$intact = true;
$joined = "";
foreach ($values as $k => $v) {
    $intact = $intact && ($fetched[$k] ?? null) === $v;
    $joined .= $fetched[$k] ?? "-";
}
$deleted = $c->deleteMulti(array_slice(array_keys($values), 0, intdiv($n, 2)));
$out["many"] = [
    "set_failed" => $setOk ? 0 : $n,
    "hits" => count($fetched),
    "intact" => $intact,
    "digest" => substr(hash("sha256", $joined), 0, 16),
    "delete_many" => count(array_filter($deleted, fn($r) => $r !== true)) === 0,
    "after_delete" => count($c->getMulti(array_keys($values))),
];

echo json_encode($out), "\n";
