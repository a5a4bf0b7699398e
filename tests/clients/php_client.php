<?php
// PHP's two memcache extensions and their session handlers against one
// daemon: php php_client.php HOST:PORT SCENARIO. Prints one "ok N - name"
// or "not ok N - name" line per check (like ClientTap.pm) and exits 0 only
// when every check passed. Run by tests/clients/test_php.py.
//
// php-memcached (on libmemcached) is tried over the text protocol and
// over the binary one; its session handler speaks binary by default and
// locks each session with an add of "<key>.lock". php-memcache (its own
// text protocol code) stores arrays serialized with flag 1.

[$host, $port] = explode(":", $argv[1]);
$port = (int)$port;
$scenario = $argv[2];
$count = 0;
$failed = 0;

function check($ok, $name) {
    global $count, $failed;
    $count++;
    echo ($ok ? "ok" : "not ok"), " $count - $name\n";
    if (!$ok)
        $failed++;
    return $ok;
}

function is_eq($got, $want, $name) {
    if (!check($got === $want, $name))
        echo "#   got: ", var_export($got, true), "\n#  want: ",
            var_export($want, true), "\n";
}

function memcached_client($binary) {
    global $host, $port;
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
    $m->setOption(Memcached::OPT_COMPRESSION, false);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 5000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 5000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 5000000);
    $m->addServer($host, $port);
    return $m;
}

function memcached_common($m, $tag) {
    check($m->flush(), "$tag flush");
    check($m->set("s", "hello"), "$tag set string");
    is_eq($m->get("s"), "hello", "$tag get string");
    check($m->set("arr", [1, "two", ["x" => 3]]), "$tag set array");
    is_eq($m->get("arr"), [1, "two", ["x" => 3]], "$tag get array");
    check($m->set("i", 42), "$tag set int");
    is_eq($m->get("i"), 42, "$tag get int");
    check($m->set("f", 1.5), "$tag set float");
    is_eq($m->get("f"), 1.5, "$tag get float");
    is_eq($m->get("missing"), false, "$tag miss is false");
    is_eq($m->getResultCode(), Memcached::RES_NOTFOUND, "$tag miss code");
    is_eq($m->add("s", "x"), false, "$tag add of a present key");
    // text: NOT_STORED; binary: the status KEY_EEXISTS
    is_eq($m->getResultCode(), $tag === "text" ? Memcached::RES_NOTSTORED
                                               : Memcached::RES_DATA_EXISTS,
          "$tag add code");
    check($m->add("new", "n"), "$tag add");
    is_eq($m->replace("zz", "x"), false, "$tag replace of a missing key");
    check($m->replace("new", "r"), "$tag replace");
    check($m->append("new", "!"), "$tag append");
    check($m->prepend("new", "<"), "$tag prepend");
    is_eq($m->get("new"), "<r!", "$tag appended value");
    check($m->set("n", 10), "$tag set counter");
    is_eq($m->increment("n", 5), 15, "$tag increment");
    is_eq($m->decrement("n", 100), 0, "$tag decrement stops at 0");
    is_eq($m->increment("nope"), false, "$tag increment of a missing key");
    is_eq($m->increment("s"), false, "$tag increment of text");
    $ext = $m->get("s", null, Memcached::GET_EXTENDED);
    check(is_array($ext) && $ext["cas"] > 0, "$tag get with cas");
    check($m->cas($ext["cas"], "s", "swapped"), "$tag cas");
    is_eq($m->cas($ext["cas"], "s", "again"), false, "$tag stale cas");
    is_eq($m->getResultCode(), Memcached::RES_DATA_EXISTS, "$tag cas code");
    is_eq($m->get("s"), "swapped", "$tag value after cas");
    check($m->touch("s", 100), "$tag touch");
    is_eq($m->touch("nope", 100), false, "$tag touch of a missing key");
    $values = [];
    for ($i = 0; $i < 300; $i++)
        $values["multi:$i"] = "v$i";
    check($m->setMulti($values), "$tag setMulti");
    $keys = array_keys($values);
    $keys[] = "multi:missing";
    $got = $m->getMulti($keys);
    ksort($got);
    ksort($values);
    is_eq($got, $values, "$tag getMulti");
    $del = $m->deleteMulti(["multi:0", "multi:missing"]);
    is_eq($del["multi:0"], true, "$tag deleteMulti hit");
    is_eq($del["multi:missing"], Memcached::RES_NOTFOUND,
          "$tag deleteMulti miss");
    check($m->delete("new"), "$tag delete");
    is_eq($m->delete("new"), false, "$tag delete again");
    $big = str_repeat("b", 900 * 1024);
    check($m->set("big", $big), "$tag set 900 KB");
    is_eq($m->get("big"), $big, "$tag get 900 KB");
    is_eq($m->set("huge", str_repeat("h", 2 * 1024 * 1024)), false,
          "$tag 2 MB refused");
    $k250 = str_repeat("k", 250);
    check($m->set($k250, "edge"), "$tag 250-byte key");
    is_eq($m->get($k250), "edge", "$tag get 250-byte key");
    $stats = $m->getStats();
    $one = array_values($stats)[0];
    check(isset($one["curr_items"]) && isset($one["pid"]), "$tag stats");
    check(is_string(array_values($m->getVersion())[0]), "$tag version");
}

function scenario_memcached_text() {
    memcached_common(memcached_client(false), "text");
}

function scenario_memcached_binary() {
    $m = memcached_client(true);
    memcached_common($m, "binary");
    // binary only: a counter created with an initial value
    is_eq($m->increment("created", 1, 7), 7, "binary increment creates");
    is_eq($m->increment("created", 1, 7), 8, "binary then increments");
    // text and binary see the same items
    $t = memcached_client(false);
    // a counter the server made has flags 0: PHP reads it as a string
    is_eq($t->get("created"), "8", "text sees the binary counter");
}

function scenario_memcache_ext() {
    global $host, $port;
    $c = new Memcache();
    check($c->addServer($host, $port), "addServer");
    check($c->flush(), "flush");
    check($c->set("pa", "v1", 0, 0), "set");
    is_eq($c->get("pa"), "v1", "get");
    is_eq($c->get(["pa", "missing"]), ["pa" => "v1"], "get of many keys");
    is_eq($c->add("pa", "x"), false, "add of a present key");
    check($c->replace("pa", "v2"), "replace");
    is_eq($c->get("pa"), "v2", "replaced value");
    is_eq($c->increment("pn"), false, "increment of a missing key");
    check($c->set("pn", 5), "set counter");
    is_eq($c->increment("pn", 3), 8, "increment");
    is_eq($c->decrement("pn", 10), 0, "decrement stops at 0");
    check($c->set("parr", ["a" => 1]), "set array");
    is_eq($c->get("parr"), ["a" => 1], "get array");
    check($c->set("pz", str_repeat("z", 5000), MEMCACHE_COMPRESSED),
          "set compressed");
    is_eq($c->get("pz"), str_repeat("z", 5000), "get compressed");
    check($c->delete("pa"), "delete");
    is_eq($c->delete("pa"), false, "delete again");
    $s = $c->getStats();
    check(isset($s["pid"]) && isset($s["curr_items"]), "getStats");
    $slabs = $c->getExtendedStats("slabs");
    check(is_array(array_values($slabs)[0]), "extended slabs stats");
    check(is_string($c->getVersion()), "version");
}

function session_round_trip($handler, $path, $tag) {
    ini_set("session.save_handler", $handler);
    ini_set("session.save_path", $path);
    ini_set("session.use_cookies", "0");
    ini_set("session.use_strict_mode", "0");
    ini_set("session.cache_limiter", ""); /* no headers: output started */
    check(session_start(), "$tag session_start");
    $id = session_id();
    $_SESSION["n"] = 1;
    $_SESSION["data"] = ["cart" => [1, 2, 3]];
    check(session_write_close(), "$tag write");
    for ($i = 2; $i <= 3; $i++) {
        session_id($id);
        check(session_start(), "$tag session_start again ($i)");
        is_eq($_SESSION["n"], $i - 1, "$tag session data survives ($i)");
        $_SESSION["n"] = $i;
        check(session_write_close(), "$tag write again ($i)");
    }
    is_eq($_SESSION["data"], ["cart" => [1, 2, 3]], "$tag nested data");
    return $id;
}

function scenario_session_memcached() {
    global $host, $port;
    // the handler's defaults: binary protocol, locking on
    ini_set("memcached.sess_locking", "1");
    $id = session_round_trip("memcached", "$host:$port", "memcached");
    $m = memcached_client(false);
    $raw = $m->get("memc.sess.key.$id");
    check(is_string($raw) && strpos($raw, "cart") !== false,
          "session stored under memc.sess.key.<id>");
    is_eq($m->get("memc.sess.key.lock.$id"), false, "lock released");
    session_id($id);
    session_start();
    check(session_destroy(), "destroy");
    is_eq($m->get("memc.sess.key.$id"), false, "destroyed session gone");
}

function scenario_session_memcache() {
    global $host, $port;
    $id = session_round_trip("memcache", "tcp://$host:$port", "memcache");
    $c = new Memcache();
    $c->addServer($GLOBALS["host"], $GLOBALS["port"]);
    $raw = $c->get($id);
    check(is_string($raw) && strpos($raw, "cart") !== false,
          "session stored under its id");
}

$fn = "scenario_$scenario";
if (!function_exists($fn)) {
    fwrite(STDERR, "no scenario $scenario\n");
    exit(2);
}
$fn();
echo "# $count checks, $failed failed\n";
exit($failed ? 1 : 0);
