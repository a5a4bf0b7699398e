-- OpenResty's memcached client (Debian lua-nginx-memcached, the module
-- lua-resty-memcached ships as nginx.memcached) against the daemon under
-- test, run by nginx's Lua module for one request. test_lua_resty_memcached.py
-- fetches /scenario/NAME; nginx passes the daemon's address and the
-- scenario's name in variables. Prints one TAP-style "ok"/"not ok" line
-- per check.
--
-- The library reads every reply by its first line and a value by its
-- length, and single gets by skipping exactly "\r\nEND\r\n" after the
-- value: a reply framed one byte off shows up in a later check.

local memcached = require "nginx.memcached"

local host = ngx.var.daemon_host
local port = tonumber(ngx.var.daemon_port)
local TIMEOUT_MS = 5000

local n = 0
local failed = 0

local function show(v)
    if type(v) == "string" and #v > 80 then
        return string.format("%q...(%d bytes)", v:sub(1, 80), #v)
    end
    return string.format("%q", tostring(v))
end

-- One check: got equals want (both compared as strings, nil as "nil").
local function is(got, want, what)
    n = n + 1
    if tostring(got) == tostring(want) then
        ngx.say("ok ", n, " - ", what)
    else
        failed = failed + 1
        ngx.say("not ok ", n, " - ", what, ": got ", show(got),
                ", want ", show(want))
    end
end

local function truthy(v, what)
    is(v and "true" or "false", "true", what)
end

local function connect()
    local m, err = memcached:new()
    if not m then
        error("new: " .. tostring(err))
    end
    m:set_timeout(TIMEOUT_MS)
    local ok, cerr = m:connect(host, port)
    if not ok then
        error("connect: " .. tostring(cerr))
    end
    return m
end

-- Every byte value, and text a client could take for the end of a reply.
local function awkward_value(len)
    local parts = {"\r\nEND\r\nVALUE k 0 5\r\n"}
    for b = 0, 255 do
        parts[#parts + 1] = string.char(b)
    end
    local unit = table.concat(parts)
    local s = string.rep(unit, math.ceil(len / #unit))
    return s:sub(1, len)
end

local scenarios = {}

function scenarios.storage(m)
    is(m:flush_all(), 1, "flush_all")
    is(m:set("plain", "hello", 0, 42), 1, "set with flags")
    local v, flags, err = m:get("plain")
    is(v, "hello", "get the value")
    is(flags, "42", "get the flags")
    is(err, nil, "no error on a hit")
    v, flags, err = m:get("absent")
    is(tostring(v) .. tostring(flags) .. tostring(err), "nilnilnil",
       "a miss is nil without an error")

    -- the library escapes keys as URIs: "a key/x" goes out as
    -- "a%20key%2Fx" and comes back unescaped
    is(m:set("a key/with spaces", "esc"), 1, "set an escaped key")
    is(m:get("a key/with spaces"), "esc", "get an escaped key")

    is(m:set("empty", ""), 1, "set an empty value")
    v, flags = m:get("empty")
    is(v, "", "get an empty value")
    is(flags, "0", "flags default to 0")

    local big = awkward_value(300000)
    is(m:set("awkward", big, 0, 7), 1, "set 300 KB of every byte value")
    v, flags = m:get("awkward")
    is(v == big, true, "the same 300 KB back")
    is(m:get("plain"), "hello", "still in step after it")

    is(m:set("segments", {"a", {"b", "c"}, "d"}), 1, "set a table value")
    is(m:get("segments"), "abcd", "the table is stored joined")

    local ok, e = m:add("plain", "other")
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_STORED", "add on a present key")
    is(m:add("added", "new"), 1, "add on an absent key")
    ok, e = m:replace("nothing", "x")
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_STORED", "replace on an absent key")
    is(m:replace("added", "replaced", 0, 3), 1, "replace on a present key")
    v, flags = m:get("added")
    is(v .. "/" .. flags, "replaced/3", "replace stored value and flags")
    is(m:append("plain", " world"), 1, "append")
    is(m:prepend("plain", ">> "), 1, "prepend")
    v, flags = m:get("plain")
    is(v .. "/" .. flags, ">> hello world/42", "append and prepend keep the flags")
    ok, e = m:append("nothing", "x")
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_STORED", "append to an absent key")

    is(m:delete("added"), 1, "delete")
    ok, e = m:delete("added")
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_FOUND", "delete again")
    is(m:get("added"), nil, "deleted is gone")

    -- a multiget of 60 keys, every third one missing
    local keys = {}
    for i = 1, 60 do
        keys[i] = "multi:" .. i
        if i % 3 ~= 0 then
            m:set(keys[i], "value " .. i, 0, i)
        end
    end
    local res, merr = m:get(keys)
    is(merr, nil, "multiget without an error")
    local hits, right = 0, 0
    for i = 1, 60 do
        local r = res[keys[i]]
        if r then
            hits = hits + 1
            if r[1] == "value " .. i and r[2] == tostring(i) then
                right = right + 1
            end
        end
    end
    is(hits, 40, "multiget hits")
    is(right, 40, "multiget values and flags")
end

function scenarios.cas_counters(m)
    is(m:flush_all(), 1, "flush_all")
    m:set("c", "one", 0, 5)
    local v, flags, cas, err = m:gets("c")
    is(v .. "/" .. flags, "one/5", "gets value and flags")
    truthy(cas and cas:match("^%d+$"), "gets returns a CAS")
    is(m:cas("c", "two", cas, 0, 6), 1, "cas with the current CAS")
    local ok, e = m:cas("c", "three", cas)
    is(tostring(ok) .. " " .. tostring(e), "nil EXISTS", "cas with a stale CAS")
    ok, e = m:cas("missing", "x", cas)
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_FOUND", "cas on an absent key")
    v, flags = m:get("c")
    is(v .. "/" .. flags, "two/6", "the cas store won")

    m:set("c2", "x")
    local res, merr = m:gets({"c", "c2", "nope"})
    is(merr, nil, "multi-gets without an error")
    truthy(res.c and res.c2 and not res.nope, "multi-gets hits and miss")
    truthy(res.c[3] ~= res.c2[3], "every item has its own CAS")
    local _, _, cas_now = m:gets("c")
    is(res.c[3], cas_now, "multi-gets CAS is the item's")

    m:set("n", "10")
    is(m:incr("n", 5), "15", "incr")
    is(m:decr("n", 20), "0", "decr stops at 0")
    m:set("n", "18446744073709551615")
    is(m:incr("n", 1), "0", "incr wraps at 2^64")
    ok, e = m:incr("c", 1)
    is(tostring(ok) .. " " .. tostring(e),
       "nil CLIENT_ERROR cannot increment or decrement non-numeric value",
       "incr of text")
    ok, e = m:incr("no-counter", 1)
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_FOUND", "incr of an absent key")
    m:set("n", "100")
    is(m:decr("n", 1), "99", "decr to fewer digits")
    is(m:get("n"), "99 ", "the value keeps its length, as memcached pads it")

    is(m:touch("c", 100), 1, "touch")
    ok, e = m:touch("no-such", 100)
    is(tostring(ok) .. " " .. tostring(e), "nil NOT_FOUND", "touch of an absent key")
end

function scenarios.admin(m)
    local ver = m:version()
    truthy(ver and ver:match("^%d+%.%d+%.%d+"), "version is a release number")
    local lines, err = m:stats()
    is(err, nil, "stats without an error")
    local seen = {}
    for _, l in ipairs(lines) do
        local name, value = l:match("^STAT (%S+) (.*)$")
        if name then
            seen[name] = value
        end
    end
    truthy(seen.pid and seen.uptime and seen.curr_items and seen.get_hits,
           "stats has memcached's names")
    lines = m:stats("settings")
    local maxbytes
    for _, l in ipairs(lines) do
        maxbytes = maxbytes or l:match("^STAT maxbytes (%d+)$")
    end
    is(maxbytes, 64 * 1024 * 1024, "stats settings gives -m")
    lines, err = m:stats("slabs")
    is(err, nil, "stats slabs")
    lines, err = m:stats("items")
    is(err, nil, "stats items")
    lines, err = m:stats("no-such-group")
    is(tostring(lines) .. " " .. tostring(err), "nil ERROR", "an unknown stats group")
    is(m:verbosity(0), 1, "verbosity")

    -- over -I (1 MB): refused, the data skipped, the connection usable
    local ok, e = m:set("huge", string.rep("h", 1100000))
    is(tostring(ok) .. " " .. tostring(e),
       "nil SERVER_ERROR object too large for cache", "a value over -I")
    is(m:set("after", "fine"), 1, "a set after the refused one")
    is(m:get("after"), "fine", "in step after the refused value")

    m:set("f1", "x")
    is(m:flush_all(), 1, "flush_all")
    is(m:get("f1"), nil, "flushed")
    is(m:flush_all(0), 1, "flush_all 0")
end

-- The connection pool: each round takes a connection from nginx's pool
-- and puts it back, so one daemon connection serves them all.
function scenarios.keepalive(m)
    m:set("pooled", "v")
    is(m:set_keepalive(10000, 4), 1, "back into the pool")
    local reused = 0
    for i = 1, 20 do
        local c = connect()
        if (c:get_reused_times() or 0) > 0 then
            reused = reused + 1
        end
        if c:get("pooled") ~= "v" then
            break
        end
        c:set_keepalive(10000, 4)
    end
    is(reused, 20, "every round reused a pooled connection")

    -- light threads, each on its own connection, interleaved by nginx
    local function worker(id)
        local c = connect()
        local good = 0
        for i = 1, 50 do
            local key = "t" .. id .. ":" .. i
            c:set(key, key .. "=" .. string.rep("v", i * 37), 0, id)
            local v, flags = c:get(key)
            if v == key .. "=" .. string.rep("v", i * 37) and
               flags == tostring(id) then
                good = good + 1
            end
        end
        c:close()
        return good
    end
    local threads = {}
    for id = 1, 8 do
        threads[id] = ngx.thread.spawn(worker, id)
    end
    local total = 0
    for id = 1, 8 do
        local ok, good = ngx.thread.wait(threads[id])
        total = total + (ok and good or 0)
    end
    is(total, 400, "8 threads x 50 set/get round trips")
end

function scenarios.expiry(m)
    is(m:flush_all(), 1, "flush_all")
    m:set("short", "x", 1)
    m:set("gone", "x", -1)
    m:set("kept", "x", 1)
    is(m:get("gone"), nil, "a negative exptime is expired at once")
    is(m:touch("kept", 100), 1, "touch lengthens the life")
    ngx.sleep(2.2)
    is(m:get("short"), nil, "expired after its second")
    is(m:get("kept"), "x", "the touched one lives on")
end

local name = ngx.var.scenario
local run = scenarios[name]
if not run then
    ngx.say("not ok 1 - no scenario ", name)
    return
end
local ok, err = pcall(function()
    local m = connect()
    run(m)
end)
if not ok then
    failed = failed + 1
    ngx.say("not ok ", n + 1, " - scenario ", name, " raised: ", tostring(err))
end
ngx.say("# ", n, " checks, ", failed, " failed")
