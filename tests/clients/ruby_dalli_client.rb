# Dalli (Debian ruby-dalli 3.0, the memcached client of Ruby and Rails'
# cache store; it speaks the binary protocol) against one daemon:
#   ruby ruby_dalli_client.rb HOST:PORT SCENARIO
# Prints one "ok N - name" or "not ok N - name" line per check (like
# ClientTap.pm) and exits 0 only when every check passed. Run by
# tests/clients/test_ruby_dalli.py.
require "dalli"

$count = 0
$failed = 0

def check(ok, name)
  $count += 1
  puts "#{ok ? 'ok' : 'not ok'} #{$count} - #{name}"
  $failed += 1 unless ok
  ok
end

def is_eq(got, want, name)
  check(got == want, name) or puts "#   got: #{got.inspect}\n#  want: #{want.inspect}"
end

SERVER = ARGV[0]

def client(**opts)
  Dalli::Client.new(SERVER, socket_timeout: 5, socket_max_failures: 1,
                            down_retry_delay: 0, **opts)
end

def scenario_basics
  dc = client
  check(dc.flush.all?, "flush")
  check(dc.set("s", "hello"), "set")
  is_eq(dc.get("s"), "hello", "get")
  check(dc.set("obj", { "x" => [1, 2], "y" => nil }), "set a hash")
  is_eq(dc.get("obj"), { "x" => [1, 2], "y" => nil }, "get a hash")
  is_eq(dc.get("missing"), nil, "miss")
  check(dc.set("raw", "abc", 0, raw: true), "set raw")
  check(dc.append("raw", "!"), "append")
  check(dc.prepend("raw", "<"), "prepend")
  is_eq(dc.get("raw"), "<abc!", "appended value")
  is_eq(dc.append("nope", "x"), false, "append to a missing key")
  is_eq(dc.add("s", "x"), false, "add of a present key")
  check(dc.add("new", "n"), "add")
  dc.replace("zz", "x") # Dalli 3.0 answers a NOT_FOUND with 0
  is_eq(dc.get("zz"), nil, "replace of a missing key stores nothing")
  check(dc.replace("new", "r"), "replace")
  is_eq(dc.get("new"), "r", "replaced value")
  check(dc.delete("new"), "delete")
  check(!dc.delete("new"), "delete again")
  bin = (0..255).map(&:chr).join.b * 4
  check(dc.set("bin", bin, 0, raw: true), "set every byte")
  is_eq(dc.get("bin").b, bin, "get every byte")
  k250 = "k" * 250
  check(dc.set(k250, "edge"), "250-byte key")
  is_eq(dc.get(k250), "edge", "get 250-byte key")
end

def scenario_counters
  dc = client
  dc.flush
  is_eq(dc.incr("n"), nil, "incr of a missing key")
  is_eq(dc.incr("n", 1, 0, 10), 10, "incr creates with the initial value")
  is_eq(dc.incr("n", 5), 15, "incr")
  is_eq(dc.decr("n", 100), 0, "decr stops at 0")
  # shrunk in place, padded with spaces to its length, as memcached does
  is_eq(dc.get("n", raw: true), "0 ", "the counter as text")
  check(dc.set("big", (2**64 - 1).to_s, 0, raw: true), "set 2^64-1")
  is_eq(dc.incr("big", 1), 0, "incr wraps at 2^64")
  check(dc.set("txt", "abc", 0, raw: true), "set text")
  begin
    dc.incr("txt", 1)
    check(false, "incr of text raises")
  rescue Dalli::DalliError
    check(true, "incr of text raises")
  end
  is_eq(dc.get("txt", raw: true), "abc", "text unchanged")
end

def scenario_cas_touch_multi
  dc = client
  dc.flush
  check(dc.set("c", "one"), "set")
  check(dc.cas("c") { |v| v + "+two" }, "cas")
  is_eq(dc.get("c"), "one+two", "value after cas")
  is_eq(dc.cas("missing") { |_| "x" }, nil, "cas of a missing key")
  value, token = dc.get_cas("c")
  is_eq(value, "one+two", "get_cas value")
  check(dc.set("c", "other"), "someone else sets")
  is_eq(dc.set_cas("c", "mine", token), false, "stale cas refused")
  is_eq(dc.get("c"), "other", "the other value stays")
  check(dc.touch("c", 100), "touch")
  is_eq(dc.touch("missing", 100), nil, "touch of a missing key")
  is_eq(dc.gat("c", 100), "other", "gat")
  keys = (0...200).map { |i| "m:#{i}" }
  keys.each_with_index { |k, i| dc.set(k, i) }
  got = dc.get_multi(*(keys + ["m:missing"]))
  is_eq(got.size, 200, "get_multi returns every hit")
  is_eq(got["m:199"], 199, "get_multi values")
  is_eq(dc.fetch("f") { "computed" }, "computed", "fetch computes on a miss")
  is_eq(dc.fetch("f") { "again" }, "computed", "fetch reads on a hit")
  check(dc.set("ttl", "v", 1), "set with 1 s ttl")
  deadline = Time.now + 5
  sleep 0.1 while dc.get("ttl") && Time.now < deadline
  is_eq(dc.get("ttl"), nil, "expired within 5 s")
end

def scenario_large_and_stats
  dc = client(compress: false)
  dc.flush
  big = "x" * (900 * 1024)
  check(dc.set("big", big, 0, raw: true), "set 900 KB")
  is_eq(dc.get("big"), big, "get 900 KB")
  begin
    dc.set("huge", Random.new(1).bytes(2 * 1024 * 1024), 0, raw: true)
    check(false, "2 MB refused")
  rescue Dalli::DalliError, Dalli::ValueOverMaxSize
    check(true, "2 MB refused")
  end
  is_eq(dc.get("big").size, big.size, "the connection still works")
  stats = dc.stats.values.first
  check(stats.key?("curr_items") && stats.key?("pid"), "stats")
  items = dc.stats(:items).values.first
  check(items.keys.any? { |k| k.end_with?(":number") }, "stats items")
  check(dc.version.values.first.is_a?(String), "version")
end

send("scenario_#{ARGV[1]}")
puts "# #{$count} checks, #{$failed} failed"
exit($failed.zero? ? 0 : 1)
