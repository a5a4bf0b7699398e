# scripts/bench_scenarios.sh - the scenarios of scripts/bench (sourced).
# Each sc_NAME function starts its daemons, runs, stops them and adds its
# rows to the table (bench_lib.sh). Settings come from scripts/bench.

get90=(-g 0.9 --key-size 32 --value-size 100 -k 100000 -M 1 -P 1)
conns50=(-t 2 -c 25)

# alternate NAME-A PORT-A PID-A NAME-B PORT-B PID-B ARGS...: `pairs` runs
# of each, A first, then B, then A again...
alternate() {
    local r
    run_head
    for ((r = 1; r <= pairs; r++)); do
        run_one "$1" "$2" "$3" "$r" "${@:7}" --seed "$r"
        run_one "$4" "$5" "$6" "$r" "${@:7}" --seed "$r"
    done
}

# side_by_side SCENARIO DESC METRIC-TEXT FIELD TARGET MB ARGS...: both
# daemons at -m MB, alternating runs, one row on FIELD.
side_by_side() {
    local name=$1 desc=$2 text=$3 f=$4 target=$5 mb=$6 z_pid z_port m_pid m_port
    shift 6
    vals=()
    echo
    echo "== $name: $desc; ${duration}s x $pairs pairs =="
    start_pair "$mb"
    alternate zeekdb "$z_port" "$z_pid" memcached "$m_port" "$m_pid" "$@"
    stop_pair
    add_pair_row "$name" "$text" "$f" "$target" zeekdb memcached
}

# add_pair_row SCENARIO TEXT FIELD TARGET LABEL-A LABEL-B: medians of each,
# ratio of the medians, range of the per-pair ratios.
add_pair_row() {
    local za mb
    # shellcheck disable=SC2086
    za=$(median ${vals[$5 $3]})
    # shellcheck disable=SC2086
    mb=$(median ${vals[$6 $3]})
    # shellcheck disable=SC2046
    add_row "$1" "$2" "$za" "$mb" "$(ratio "$za" "$mb")" \
        "$(range $(pair_ratios "${vals[$5 $3]}" "${vals[$6 $3]}"))" "$4"
}

# 1. Throughput of the get90 mix over 50 connections.
sc_throughput() {
    side_by_side throughput "get90 (90% get / 10% set, key 32 B, value 100 B, 100k keys)" \
        "ops/s, get90, 2x25 conns" ops_per_sec ">=1.3" 1024 \
        "${conns50[@]}" -d "$duration" "${get90[@]}"
}

# 2. Server CPU per request, pipelined gets.
sc_cpu_pipelined() {
    side_by_side cpu_pipelined "100% get, 16 gets per batch (pipelined), 2x4 conns" \
        "server CPU us/request, 16/batch" server_us_per_op "<=0.6" 1024 \
        -t 2 -c 4 -d "$duration" -g 1 --key-size 32 --value-size 100 -k 100000 -M 1 -P 16
}

# 3. p99 at a fixed offered rate, 70% of memcached's closed-loop maximum
# measured just before on the same daemons.
sc_p99_fixed_rate() {
    local z_pid z_port m_pid m_port max rate r
    vals=()
    echo
    echo "== p99_fixed_rate: get90 paced at $rate_pct% of memcached's max; 2x25 conns," \
         "${duration}s x $pairs pairs =="
    start_pair 1024
    echo "  calibration: memcached closed loop"
    run_head
    for r in 1 2; do
        run_one calibration "$m_port" "$m_pid" "$r" "${conns50[@]}" -d "$duration" \
            "${get90[@]}" --seed "$r"
    done
    # shellcheck disable=SC2086
    max=$(median ${vals[calibration ops_per_sec]})
    rate=$(awk -v m="$max" -v p="$rate_pct" 'BEGIN { printf "%.0f", m * p / 100 }')
    echo "  memcached max ${max} ops/s; offered rate $rate ops/s (latency from the schedule)"
    vals=()
    alternate zeekdb "$z_port" "$z_pid" memcached "$m_port" "$m_pid" \
        "${conns50[@]}" -d "$duration" "${get90[@]}" --rate "$rate"
    stop_pair
    # shellcheck disable=SC2086
    echo "  achieved ops/s: zeekdb $(median ${vals[zeekdb ops_per_sec]}), memcached" \
         "$(median ${vals[memcached ops_per_sec]}) (offered $rate)"
    add_pair_row p99_fixed_rate "p99 us at $rate ops/s" p99_us "<=0.8" zeekdb memcached
}

# fill_run LABEL MB FILL-ARGS...: fresh daemon, one loadgen --fill; sets
# fill_result (RESULT line) and fill_rss (VmRSS kB after the fill and a
# 1 s get90 run over 50 connections when post_load=yes).
post_load=no
fill_run() {
    local label=$1 mb=$2 pid port
    shift 2
    start_daemon "$label" "$mb" && pid=$daemon_pid port=$daemon_port
    fill_result=$(timeout "$((fill_budget + 60))" "$loadgen" -s "127.0.0.1:$port" --fill \
        --budget "$fill_budget" "$@" 2>"$work/fill.err" | grep '^RESULT ' || true)
    grep -v '^loadgen .*: fill: [0-9]* items held' "$work/fill.err" | sed 's/^/    /' >&2 || true
    if [[ $(field errors "$fill_result") != 0 ]] || ! kill -0 "$pid" 2>/dev/null; then
        failures=$((failures + 1))
        echo "  bench: $label fill failed:" >&2
        tail -n 5 "$work/fill.err" | sed 's/^/    /' >&2
    fi
    if [[ $post_load == yes ]]; then
        timeout 120 "$loadgen" -s "127.0.0.1:$port" "${conns50[@]}" -d 1 "${get90[@]}" \
            >/dev/null 2>&1 || true
    fi
    fill_rss=$(rss_kb "$pid")
    stop_daemon "$pid"
}

# 4. Items held at -m 64.
sc_items_64m() {
    local r label
    vals=()
    echo
    echo "== items_64m: -m 64, key 32 B, value 100 B, fresh keys until the first eviction;" \
         "$pairs pairs =="
    for ((r = 1; r <= pairs; r++)); do
        for label in zeekdb memcached; do
            fill_run "$label" 64 -k 10000000 --key-size 32 --value-size 100
            vals[$label items]+="$(field curr_items "$fill_result") "
            printf '  %-5s %-10s curr_items %9s  (%s items/MiB, after %s sets)\n' "$r" \
                "$label" "$(field curr_items "$fill_result")" \
                "$(field items_per_mb "$fill_result")" "$(field sets "$fill_result")"
        done
    done
    add_pair_row items_64m "items held at -m 64, 32 B+100 B" items ">=1.3" zeekdb memcached
}

# 5. RSS at -m 1024 after a fill that evicts.
sc_rss_1024m() {
    local r label z m
    vals=()
    echo
    echo "== rss_1024m: -m 1024, fresh keys, values $rss_vmin..$rss_vmax B, until the first" \
         "eviction and 25% more sets, then 1 s of get90 over 50 conns; VmRSS; $pairs pairs =="
    post_load=yes
    for ((r = 1; r <= pairs; r++)); do
        for label in zeekdb memcached; do
            fill_run "$label" 1024 -k 100000000 --key-size 32 --key-prefix r \
                --value-size "$rss_vmin" --value-size-max "$rss_vmax" --fill-more 0.25 --progress
            vals[$label rss]+="$(awk -v k="$fill_rss" 'BEGIN { printf "%.4f", k / 1024 / 1024 }') "
            printf '  %-5s %-10s VmRSS %8s kB = %s x limit  (curr_items %s, evictions %s)\n' \
                "$r" "$label" "$fill_rss" \
                "$(awk -v k="$fill_rss" 'BEGIN { printf "%.3f", k / 1024 / 1024 }')" \
                "$(field curr_items "$fill_result")" "$(field evictions "$fill_result")"
        done
    done
    post_load=no
    # shellcheck disable=SC2086
    z=$(median ${vals[zeekdb rss]})
    # shellcheck disable=SC2086
    m=$(median ${vals[memcached rss]})
    # shellcheck disable=SC2046
    add_row rss_1024m "RSS/limit at -m 1024 (fig: zeekdb)" "$z" "$m" "$z" \
        "$(range ${vals[zeekdb rss]})" "<=1.05"
    # shellcheck disable=SC2046
    add_row rss_1024m "RSS zeekdb/memcached" "$z" "$m" "$(ratio "$z" "$m")" \
        "$(range $(pair_ratios "${vals[zeekdb rss]}" "${vals[memcached rss]}"))" "-"
}

# preload PORT ITEMS [ARGS...]: set keys 0..ITEMS-1 (2x4 conns, 64 per
# batch); prints the RESULT line.
preload() {
    local port=$1 items=$2
    shift 2
    timeout "$((fill_budget + 60))" "$loadgen" -s "127.0.0.1:$port" -t 2 -c 4 -k "$items" \
        --preload-only --progress --budget "$fill_budget" "$@" 2>"$work/preload.err" |
        grep '^RESULT ' || { failures=$((failures + 1)); tail -n 5 "$work/preload.err" >&2; }
    grep -v ': preload: [0-9]* sets in' "$work/preload.err" | sed 's/^/    /' >&2 || true
}

# probe_start PORT: a light paced get load in the background (probe_pid).
probe_start() {
    "$loadgen" -s "127.0.0.1:$1" -t 1 -c 2 -d 3000 --rate "$probe_rate" --no-preload -g 1 \
        -k "$scale_base" --key-size 32 --value-size "$scale_value" --budget 60 \
        >"$work/probe.out" 2>"$work/probe.err" &
    probe_pid=$!
}

# probe_stop: ends it (SIGTERM: it reports) and prints its p99.9.
probe_stop() {
    kill -TERM "$probe_pid" 2>/dev/null || true
    wait "$probe_pid" 2>/dev/null || true
    field p999_us "$(grep '^RESULT ' "$work/probe.out" || true)"
}

# 6. Scale: throughput at scale_items vs scale_base items resident, and
# p99.9 of a light paced get probe while the table grows (a fill of fresh
# keys from scale_base to scale_items at scale_rate sets/s) vs steady (the
# same probe while overwriting existing keys at the same rate, as long).
# Both writers are paced so the probe measures the table, not a 2-core
# machine saturated by the writer.
sc_scale() {
    local d s_pid s_port b_pid b_port t0 secs hp0 hp1 grow steady res r
    local -a mix=("${conns50[@]}" -d "$duration" -g 0.9 --key-size 32
                  --value-size "$scale_value" --no-preload)
    local -A self=() growth=()
    echo
    echo "== scale: $scale_items vs $scale_base items (key 32 B, value $scale_value B)," \
         "-m $scale_mb -o hashpower=16; get90 ${duration}s x $pairs pairs per daemon =="
    for d in zeekdb memcached; do
        [[ $d == memcached && $scale_memcached == no ]] && continue
        vals=()
        start_daemon "$d-small" "$scale_mb" -o hashpower=16 && s_pid=$daemon_pid s_port=$daemon_port
        start_daemon "$d-big" "$scale_mb" -o hashpower=16 && b_pid=$daemon_pid b_port=$daemon_port
        echo "  $d: preloading $scale_base items into both"
        preload "$s_port" "$scale_base" --value-size "$scale_value" >/dev/null
        preload "$b_port" "$scale_base" --value-size "$scale_value" >/dev/null
        hp0=$(stat_of "$b_port" hash_power_level)
        echo "  $d: filling the big one to $scale_items items at $scale_rate sets/s," \
             "probe at $probe_rate gets/s"
        probe_start "$b_port"
        t0=$SECONDS
        res=$(preload "$b_port" "$scale_items" --value-size "$scale_value" --rate "$scale_rate")
        secs=$((SECONDS - t0 > 5 ? SECONDS - t0 : 5))
        grow=$(probe_stop)
        hp1=$(stat_of "$b_port" hash_power_level)
        echo "  $d: fill ${secs}s ($(field sets_per_sec "$res") sets/s), curr_items" \
             "$(field curr_items "$res"), evictions $(field evictions "$res")," \
             "hash_power_level $hp0 -> $hp1; probe p99.9 ${grow} us"
        echo "  $d: steady: same probe while overwriting existing keys at $scale_rate" \
             "sets/s for ${secs}s"
        probe_start "$b_port"
        timeout "$((secs + 120))" "$loadgen" -s "127.0.0.1:$b_port" -t 2 -c 4 -P 64 -g 0 \
            --rate "$scale_rate" \
            --no-preload -k "$scale_items" --key-size 32 --value-size "$scale_value" \
            -d "$secs" >/dev/null 2>&1 || true
        steady=$(probe_stop)
        echo "  $d: steady probe p99.9 ${steady} us"
        growth[$d]=$(ratio "$grow" "$steady")
        run_head     # each over its own key space, nothing preloaded
        for ((r = 1; r <= pairs; r++)); do
            run_one "$d-big" "$b_port" "$b_pid" "$r" "${mix[@]}" -k "$scale_items" --seed "$r"
            run_one "$d-small" "$s_port" "$s_pid" "$r" "${mix[@]}" -k "$scale_base" --seed "$r"
        done
        stop_daemon "$b_pid"
        stop_daemon "$s_pid"
        # shellcheck disable=SC2086
        self[$d]=$(median $(pair_ratios "${vals[$d-big ops_per_sec]}" \
            "${vals[$d-small ops_per_sec]}"))
        # shellcheck disable=SC2046
        self[$d range]=$(range $(pair_ratios "${vals[$d-big ops_per_sec]}" \
            "${vals[$d-small ops_per_sec]}"))
    done
    add_row scale "ops/s ${scale_items} / ${scale_base} items (self)" "${self[zeekdb]}" \
        "${self[memcached]:-nan}" "${self[zeekdb]}" "${self[zeekdb range]}" ">=0.9"
    add_row scale "p99.9 growing / steady (self)" "${growth[zeekdb]}" \
        "${growth[memcached]:-nan}" "${growth[zeekdb]}" "1 run" "<=2"
}

# snapshot_load ITEMS VALUE_BYTES: fill, `snapshot`, then restart `pairs`
# times on the same file and read the daemon's "snapshot F loaded: ..."
# log line.
snapshot_load() {
    local n=$1 vsize=$2 pid port file=$snapdir/load-$1.snap line items bytes ms r
    local -a mbs=() ips=()
    start_daemon zeekdb "$snap_mb" -o "snapshot_path=$file,snapshot_interval=0" &&
        pid=$daemon_pid port=$daemon_port
    preload "$port" "$n" --key-size 32 --value-size "$vsize" >/dev/null
    echo "  $n items: snapshot -> $(ask "$port" "$fill_budget" snapshot)" \
         "($(stat_of "$port" snapshot_last_duration_us) us," \
         "$(stat_of "$port" snapshot_last_bytes) bytes)"
    # SIGKILL: the file is complete (answered OK); a graceful stop would
    # only write the same data again.
    stop_daemon "$pid" KILL
    start_wait_s=$((fill_budget + 10))
    for ((r = 1; r <= pairs; r++)); do
        start_daemon zeekdb "$snap_mb" -o "snapshot_path=$file,snapshot_interval=0" &&
            pid=$daemon_pid
        stop_daemon "$pid" KILL
        line=$(grep -o 'loaded: [0-9]* items, [0-9]* bytes of keys and values in [0-9]* ms' \
            "$daemon_log" || true)
        read -r items bytes ms < <(awk '{ print $2, $4, $(NF-1) }' <<<"${line:-x x x x x x x x}")
        [[ $items =~ ^[0-9]+$ && $items -gt 0 ]] || {
            failures=$((failures + 1))
            echo "  bench: no load line in the zeekdb log: $(tail -n 3 "$daemon_log")" >&2
            continue
        }
        ((ms > 0)) || ms=1   # the log has ms resolution
        mbs+=("$(awk -v b="$bytes" -v t="$ms" 'BEGIN { printf "%.1f", b / t / 1000 }')")
        ips+=("$(awk -v n="$items" -v t="$ms" 'BEGIN { printf "%.0f", n / t * 1000 }')")
        printf '  %-5s load %9s items %11s bytes in %6s ms = %8s MB/s, %9s items/s\n' \
            "$r" "$items" "$bytes" "$ms" "${mbs[-1]}" "${ips[-1]}"
    done
    start_wait_s=10
    rm -f "$file"
    # shellcheck disable=SC2046
    add_row snapshot "load MB/s, $n x (32+$vsize) B (zeekdb)" "$(median "${mbs[@]}")" "-" \
        "$(median "${mbs[@]}")" "$(range "${mbs[@]}")" ">=1000"
    echo "  $n items: median $(median "${ips[@]}") items/s"
}

# snapshot_loop PORT STOPFILE: ask for snapshots back to back until
# STOPFILE exists; prints how many were answered OK.
snapshot_loop() {
    local n=0
    while [[ ! -e $2 ]]; do
        [[ $(ask "$1" 300 snapshot) == OK ]] && n=$((n + 1))
    done
    echo "$n"
}

# 7. Snapshots (zeekdb only): load speed; throughput and p99.9 of get90
# while dumping ~snap_dump_mb MiB vs without a dump, alternating.
sc_snapshot() {
    local n pid port dump_items r stop loop_pid dumps=0 x
    echo
    echo "== snapshot (zeekdb only, against itself): load of ${snap_items// /, } items" \
         "of 32+100 B and $snap_big_items of 32+1000 B;" \
         "get90 with and without a dump of ~$snap_dump_mb MiB, ${duration}s x $pairs pairs =="
    snapdir=$(mktemp -d "$work/snap.XXXXXX")
    chmod 777 "$snapdir"
    for n in $snap_items; do
        snapshot_load "$n" 100
    done
    snapshot_load "$snap_big_items" 1000
    vals=()
    dump_items=$((snap_dump_mb * 1024 * 1024 / 1056))
    start_daemon zeekdb "$snap_mb" -o "snapshot_path=$snapdir/dump.snap,snapshot_interval=0" &&
        pid=$daemon_pid port=$daemon_port
    echo "  bulk: $dump_items items of 1000 B (key prefix b) for the dump"
    preload "$port" "$dump_items" --key-prefix b --key-size 32 --value-size 1000 >/dev/null
    run_head
    for ((r = 1; r <= pairs; r++)); do
        run_one no-dump "$port" "$pid" "$r" "${conns50[@]}" -d "$duration" "${get90[@]}" \
            --seed "$r"
        stop=$work/snapshot-loop.stop
        rm -f "$stop"
        snapshot_loop "$port" "$stop" >"$work/snapshot-loop.out" &
        loop_pid=$!
        run_one dump "$port" "$pid" "$r" "${conns50[@]}" -d "$duration" "${get90[@]}" \
            --seed "$r"
        touch "$stop"
        wait "$loop_pid" || true
        x=$(cat "$work/snapshot-loop.out")
        dumps=$((dumps + ${x:-0}))
    done
    echo "  dumps completed during the 'dump' runs: $dumps; last one" \
         "$(stat_of "$port" snapshot_last_duration_us) us," \
         "$(stat_of "$port" snapshot_last_bytes) bytes, failures" \
         "$(stat_of "$port" snapshot_failures)"
    stop_daemon "$pid" KILL
    rm -rf "$snapdir"
    local tz p9
    # shellcheck disable=SC2086
    tz=$(median $(pair_ratios "${vals[dump ops_per_sec]}" "${vals[no-dump ops_per_sec]}"))
    # shellcheck disable=SC2086
    p9=$(median $(pair_ratios "${vals[dump p999_us]}" "${vals[no-dump p999_us]}"))
    # shellcheck disable=SC2046,SC2086
    add_row snapshot "ops/s dumping / not (self)" "$(median ${vals[dump ops_per_sec]})" "-" \
        "$tz" "$(range $(pair_ratios "${vals[dump ops_per_sec]}" \
        "${vals[no-dump ops_per_sec]}"))" ">=0.8"
    # shellcheck disable=SC2046,SC2086
    add_row snapshot "p99.9 dumping / not (self)" "$(median ${vals[dump p999_us]})" "-" \
        "$p9" "$(range $(pair_ratios "${vals[dump p999_us]}" "${vals[no-dump p999_us]}"))" "<=2"
}

# Extra rows kept from the first version of the script (--threads/--conns).
sc_get90() {
    side_by_side get90 "get90, loadgen ${threads}x$conns conns" "ops/s, get90, ${threads}x$conns" \
        ops_per_sec ">=1.3" 1024 -t "$threads" -c "$conns" -d "$duration" "${get90[@]}"
}
# Server CPU per request when a worker wakes for one request at a time
# (2 connections, no pipelining): what a lightly loaded production daemon
# spends, system calls and wake-ups included. An extra row, no target.
sc_cpu_light() {
    side_by_side cpu_light "get90, 1x2 conns, one request per wake-up" \
        "server CPU us/request, 2 conns" server_us_per_op "-" 1024 \
        -t 1 -c 2 -d "$duration" "${get90[@]}"
}
sc_multiget() {
    side_by_side multiget "100% get, 16 keys/get, pipeline 8, ${threads}x$conns conns" \
        "keys/s, 16-key gets x8" keys_per_sec ">=1.3" 1024 -t "$threads" -c "$conns" \
        -d "$duration" -g 1 --key-size 32 --value-size 100 -k 100000 -M 16 -P 8
}
sc_value4k() {
    side_by_side value4k "get90, value 4096 B, 50k keys, ${threads}x$conns conns" \
        "ops/s, get90 4 KiB values" ops_per_sec ">=1.3" 1024 -t "$threads" -c "$conns" \
        -d "$duration" -g 0.9 --key-size 32 --value-size 4096 -k 50000 -M 1 -P 1
}

# Extra rows from a load generator that is not ours: libmemcached's
# memcslap (libmemcached-tools), 50 client threads, each loading its keys
# with sets and then getting them, one request per round trip. It prints
# the seconds each phase took; the rows are its requests per second.
memcslap_run() {
    local label=$1 port=$2 r=$3 out sets gets
    out=$(timeout "$((duration * 20 + 60))" memcslap -s "127.0.0.1:$port" --test=get \
        --concurrency=50 --execute-number="$memcslap_per_thread" 2>&1) || true
    sets=$(awk '/^Time to set/ { print $4 / $(NF-1) }' <<<"$out")
    gets=$(awk '/^Time to get/ { print $4 / $(NF-1) }' <<<"$out")
    if [[ -z $sets || -z $gets ]]; then
        failures=$((failures + 1))
        echo "  bench: memcslap against $label gave no timing: $(tail -n 2 <<<"$out")" >&2
        sets=nan gets=nan
    fi
    printf '  %-5s %-10s sets/s %9.0f  gets/s %9.0f\n' "$r" "$label" "$sets" "$gets"
    vals[$label sets]+="$sets "
    vals[$label gets]+="$gets "
}

sc_memcslap() {
    local r z_pid z_port m_pid m_port
    memcslap_per_thread=$((duration * 800))
    command -v memcslap >/dev/null || die "memcslap missing (Debian libmemcached-tools)"
    vals=()
    echo
    echo "== memcslap: libmemcached's load generator, 50 threads x $memcslap_per_thread" \
         "sets then gets; $pairs pairs =="
    start_pair 1024
    for ((r = 1; r <= pairs; r++)); do
        memcslap_run zeekdb "$z_port" "$r"
        memcslap_run memcached "$m_port" "$r"
    done
    stop_pair
    add_pair_row memcslap_set "memcslap sets/s, 50 threads" sets "-" zeekdb memcached
    add_pair_row memcslap_get "memcslap gets/s, 50 threads" gets "-" zeekdb memcached
}

# Extra rows: the same loads through TLS (-Z), both daemons with the same
# self-signed certificate; loadgen --tls does not check it.
sc_tls() {
    local crt=$work/tls.crt key=$work/tls.key z_pid z_port m_pid m_port tls_args
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -keyout "$key" -out "$crt" >/dev/null 2>&1 || die "openssl could not make a certificate"
    chmod 644 "$crt" "$key"
    tls_args=(-Z -o "ssl_chain_cert=$crt,ssl_key=$key")
    probe_tls=yes
    for row in throughput cpu_pipelined; do
        vals=()
        echo
        echo "== tls_$row: through TLS; ${duration}s x $pairs pairs =="
        start_pair 1024 "${tls_args[@]}"
        if [[ $row == throughput ]]; then
            alternate zeekdb "$z_port" "$z_pid" memcached "$m_port" "$m_pid" --tls \
                "${conns50[@]}" -d "$duration" "${get90[@]}"
            add_pair_row tls_throughput "ops/s, get90, 2x25 conns, TLS" ops_per_sec "-" \
                zeekdb memcached
        else
            alternate zeekdb "$z_port" "$z_pid" memcached "$m_port" "$m_pid" --tls \
                -t 2 -c 4 -d "$duration" -g 1 --key-size 32 --value-size 100 -k 100000 -M 1 -P 16
            add_pair_row tls_cpu_pipelined "server CPU us/request, 16/batch, TLS" \
                server_us_per_op "-" zeekdb memcached
        fi
        stop_pair
    done
    probe_tls=no
}
