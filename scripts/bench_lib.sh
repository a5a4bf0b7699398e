# scripts/bench_lib.sh - helpers of scripts/bench (sourced, not run):
# daemons, one loadgen run, medians and per-pair ratios, the result table.
#
# Expects from scripts/bench: work, loadgen, zeekdb_run, zeekdb_args,
# memcached_bin, user_flag, pids (array), duration, failures.
# Only ever talks to 127.0.0.1.

die() { echo "bench: $*" >&2; exit 1; }

# ---- daemons -------------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

answers_version() {
    if [[ ${probe_tls:-no} == yes ]]; then
        # s_client -quiet reads on after its input ends, until the timeout
        local out
        out=$( (printf 'version\r\n'; sleep 0.5) | timeout 1 openssl s_client -quiet \
            -connect "127.0.0.1:$1" 2>/dev/null || true)
        [[ $out == VERSION* ]]
        return
    fi
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "version\r\n" >&3 &&
        IFS= read -r line <&3 && [[ $line == VERSION* ]]' _ "$1" 2>/dev/null
}

# start_daemon NAME MEGABYTES [EXTRA-FLAGS...]: NAME is zeekdb* or
# memcached*; -t 2 -m MEGABYTES -U 0 -l 127.0.0.1 on a free port. Sets
# daemon_pid, daemon_port and daemon_log. Waits up to start_wait_s for
# the daemon to answer `version` (a snapshot load comes first).
start_wait_s=10
start_daemon() {
    local name=$1 mb=$2 port pid log bin=$memcached_bin t0 extra=()
    shift 2
    if [[ $name == zeekdb* ]]; then
        bin=$zeekdb_run
        extra=("${zeekdb_args[@]}")
    fi
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 40000))
        port_busy "$port" && continue
        log=$work/$name.$port.log
        "$bin" -t 2 -m "$mb" -U 0 -l 127.0.0.1 -p "$port" "${user_flag[@]}" \
            "${extra[@]}" "$@" >"$log" 2>&1 &
        pid=$!
        pids+=("$pid")
        t0=$SECONDS
        while ((SECONDS - t0 < start_wait_s)); do
            kill -0 "$pid" 2>/dev/null || break
            if answers_version "$port"; then
                daemon_pid=$pid daemon_port=$port daemon_log=$log
                return 0
            fi
            sleep 0.1
        done
        stop_daemon "$pid"
        grep -qi "address already in use" "$log" || {
            echo "bench: $name ($bin) did not start; its log:" >&2
            tail -n 20 "$log" >&2
            exit 1
        }
    done
    die "no free port found for $name"
}

# stop_daemon PID [SIGNAL]: TERM by default (graceful; zeekdb then writes
# its final snapshot when snapshots are on).
stop_daemon() {
    local p keep=()
    kill "-${2:-TERM}" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${pids[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    pids=("${keep[@]}")
}

# start_pair MB [FLAGS...]: zeekdb and memcached with the same -m and
# flags; sets z_pid z_port m_pid m_port (the caller's locals). stop_pair
# stops both.
start_pair() {
    start_daemon zeekdb "$@" && z_pid=$daemon_pid z_port=$daemon_port
    start_daemon memcached "$@" && m_pid=$daemon_pid m_port=$daemon_port
}

stop_pair() {
    stop_daemon "$z_pid"
    stop_daemon "$m_pid"
}

# ask PORT TIMEOUT COMMAND: send one command, print the first reply line.
ask() {
    timeout "$2" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\r\n" "$2" >&3 &&
        IFS= read -r line <&3 && printf "%s\n" "${line%$'\''\r'\''}"' _ "$1" "$3" 2>/dev/null ||
        echo "(no reply)"
}

# stat_of PORT NAME: one value from `stats`, or "nan".
stat_of() {
    local v
    v=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "stats\r\n" >&3 &&
        while IFS= read -r l <&3; do l=${l%$'\''\r'\''}; [[ $l == END ]] && break
            [[ $l == "STAT $2 "* ]] && echo "${l##* }"; done' _ "$1" "$2" 2>/dev/null) || true
    echo "${v:-nan}"
}

# rss_kb PID: VmRSS of a process, in kB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo nan; }

# ---- figures -------------------------------------------------------------

field() { # field NAME RESULT-LINE
    local kv
    for kv in $2; do
        [[ $kv == "$1="* ]] && { echo "${kv#*=}"; return; }
    done
    echo nan
}

median() { printf '%s\n' "$@" | grep -v '^nan$' | sort -g | awk '{v[NR]=$1} END {
    if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2];
    else print (v[NR/2] + v[NR/2+1]) / 2 }'; }

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && b + 0 > 0) printf "%.3f", a / b; else print "nan" }'
}

# pair_ratios "A1 A2 ..." "B1 B2 ...": the per-pair ratios Ai/Bi.
pair_ratios() {
    local -a a b
    local i
    read -r -a a <<<"$1"
    read -r -a b <<<"$2"
    for i in "${!a[@]}"; do
        ratio "${a[$i]}" "${b[$i]:-nan}"
        echo
    done
}

# range VALUES...: "min-max" of the numbers among them.
range() {
    printf '%s\n' "$@" | grep -v '^nan$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 }
        END { f = hi >= 100 ? "%.0f-%.0f" : "%.2f-%.2f"
              if (NR) printf f, lo, hi; else print "n/a" }'
}

declare -A vals   # "label metric" -> space-separated values, one per run

# run_one LABEL PORT PID ROUND ARGS...: one loadgen run (ARGS give -t, -c,
# -d and the mix), printed as one row and recorded in vals.
run_metrics=(ops_per_sec keys_per_sec p50_us p99_us p999_us server_us_per_op)
run_fmt='  %-5s %-15s %10.0f %10.0f %9.1f %9.1f %9.1f %8.2f %6s %5s %5s\n'
run_head() {
    # shellcheck disable=SC2059
    printf '  %-5s %-15s %10s %10s %9s %9s %9s %8s %6s %5s %5s\n' run daemon ops/s keys/s \
        p50_us p99_us p99.9_us srv_us/op errors cli% srv%
}
run_one() {
    local label=$1 port=$2 pid=$3 round=$4 m
    shift 4
    local out=$work/run.out err=$work/run.err rc=0 errs result
    timeout "$(awk -v d="$duration" 'BEGIN{printf "%d", d + 400}')" \
        "$loadgen" -s "127.0.0.1:$port" --server-pid "$pid" "$@" >"$out" 2>"$err" || rc=$?
    result=$(grep '^RESULT ' "$out" || true)
    last_result=$result
    errs=$(awk -v a="$(field errors "$result")" -v b="$(field bad_values "$result")" \
        -v c="$(field timeouts "$result")" -v d="$(field conn_failures "$result")" \
        'BEGIN { if (a d == "nannan") print "?"; else print a + b + c + d }')
    # shellcheck disable=SC2059
    printf "$run_fmt" "$round" "$label" "$(field ops_per_sec "$result")" \
        "$(field keys_per_sec "$result")" "$(field p50_us "$result")" \
        "$(field p99_us "$result")" "$(field p999_us "$result")" \
        "$(field server_us_per_op "$result")" "$errs" \
        "$(field client_cpu_pct "$result")" "$(field server_cpu_pct "$result")"
    for m in "${run_metrics[@]}"; do
        vals[$label $m]+="$(field "$m" "$result") "
    done
    if ((rc != 0)) || ! kill -0 "$pid" 2>/dev/null; then
        failures=$((failures + 1))
        echo "  bench: $label run failed (loadgen exit $rc)$(kill -0 "$pid" 2>/dev/null ||
            echo ', daemon died'):" >&2
        tail -n 5 "$err" | sed 's/^/    /' >&2
        kill -0 "$pid" 2>/dev/null || exit 1
    fi
}

# ---- the table -----------------------------------------------------------

table=()
table_fmt='%-15s %-38s %10s %10s %7s %13s %7s %-4s\n'

# verdict VALUE TARGET: yes/no/n/a, TARGET like ">=1.3" or "<=0.6" ("-": none).
verdict() {
    awk -v v="$1" -v t="$2" 'BEGIN {
        op = substr(t, 1, 2); x = substr(t, 3) + 0
        if (t == "-") { print "-"; exit }
        if (v == "nan" || v == "") { print "n/a"; exit }
        if (op == ">=") print (v + 0 >= x ? "yes" : "no"); else print (v + 0 <= x ? "yes" : "no") }'
}

fmt_num() { # a figure in at most 11 columns
    awk -v v="$1" 'BEGIN { if (v == "nan" || v == "" || v == "-") print (v == "-" ? "-" : "n/a");
        else if (v + 0 >= 1000) printf "%.0f", v; else if (v + 0 >= 10) printf "%.1f", v;
        else printf "%.3f", v }'
}

# add_row SCENARIO METRIC ZEEKDB MEMCACHED FIGURE RANGE TARGET: one row of
# the final table and one BENCH line now. FIGURE is what TARGET applies to
# (usually zeekdb/memcached; a self-ratio or zeekdb's value where said).
add_row() {
    local ok
    ok=$(verdict "$5" "$7")
    # shellcheck disable=SC2059
    table+=("$(printf "$table_fmt" "$1" "$2" "$(fmt_num "$3")" "$(fmt_num "$4")" \
        "$(fmt_num "$5")" "$6" "$7" "$ok")")
    echo "BENCH scenario=$1 metric=\"$2\" zeekdb=$3 memcached=$4 figure=$5 pair_range=$6" \
         "target=$7 met=$ok"
}

print_table() {
    echo
    echo "== summary: medians; figure = zeekdb/memcached unless the metric says otherwise;"
    echo "   range = min-max of the per-pair figures; met = figure meets the target =="
    # shellcheck disable=SC2059
    printf "$table_fmt" scenario metric zeekdb memcached figure range target met
    printf '%s\n' "${table[@]}"
}
