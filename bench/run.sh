#!/usr/bin/env bash
# The campaignctl benchmarks: the speed bar of product.md ("Quality bars") and two companions.
#
#   bench/run.sh [--runs N] [--no-build] [BENCH...]
#
# BENCH is any of the following (default: all):
#
#   plan-million   plan --json of one campaign whose CSV holds 1,000,000 numbers
#   plan-mixed     plan --json of one campaign of 1,000,000 numbers of 7 countries, 7 tasks
#   plan-thousand  plan --json of 1,000 small campaign files
#   plan-out       plan --out FILE of the 1,000,000 numbers (the saved plan's cost)
#   apply          apply of 1,000 tasks of 100 numbers each to the sandbox, --parallelism 16
#   apply-small    apply of 1,000 tasks of 10 numbers, zero-latency sandbox, --parallelism 16
#   apply-slow     the same, the sandbox answering each request 50 ms late, --parallelism 32
#   apply-million  apply of the 1,000,000 numbers (100 parts of 10,000) to the loopback
#                  sandbox, fresh state; then the state's bytes per sent number, and
#                  replan: plan of the same campaign with 10,000 more numbers against it
#
# BEFORE=path runs every benchmark with that binary too (alternating runs) and prints the
# ratio of the medians, this build over that one.
#
# Every run starts from an empty state (a fresh --state file in a temporary directory) and, for
# apply, a fresh sandbox; each run's result is checked (the plan's counts, the sandbox's tasks).
# Prints CPU time (user + system, median), wall time (median, min and max of the runs), peak
# resident memory (median, from /usr/bin/time -v) and, for apply, requests per second.
#
# Data comes from bench/generate.py into bench/data/ (git-ignored), generated when missing and
# then validated with campaignctl itself. Override the binary with CAMPAIGNCTL=path (implies
# --no-build). Installs GNU time, jq and curl with apt when missing. See docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
# Calling windows make a plan depend on the hour (numbers outside 08:00-21:00 their local time
# are held): every run is judged on a Wednesday at 10:00 UTC, inside the window of every set.
export CAMPAIGNCTL_NOW=${CAMPAIGNCTL_NOW:-2026-11-18T10:00:00Z}

runs=5
build=1
benches=()
while (($#)); do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --runs=*) runs=${1#--runs=}; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        plan-million|plan-mixed|plan-thousand|plan-out|apply|apply-small|apply-slow|apply-million)
            benches+=("$1"); shift ;;
        *) echo "bench/run.sh: unknown argument: $1 (see --help)" >&2; exit 1 ;;
    esac
done
((${#benches[@]})) || benches=(plan-million plan-mixed plan-thousand plan-out apply apply-small apply-slow apply-million)
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: --runs takes a positive number" >&2; exit 1; }


if [[ -n ${CAMPAIGNCTL:-} ]]; then
    build=0
    bin=$CAMPAIGNCTL
else
    bin=$root/target/dist/campaignctl
fi

if ((build)); then
    echo "building the dist binary (fat LTO) ..." >&2
    cargo build --profile dist --quiet
fi
[[ -x $bin ]] || { echo "bench/run.sh: no binary at $bin" >&2; exit 1; }
bins=("$bin")
if [[ -n ${BEFORE:-} ]]; then
    [[ -x $BEFORE ]] || { echo "bench/run.sh: no binary at BEFORE=$BEFORE" >&2; exit 1; }
    bins+=("$BEFORE")
fi
# label BIN: how results of BIN are named.
label() { if [[ $1 == "$bin" ]]; then echo this; else echo before; fi; }

# need COMMAND DEBIAN-PACKAGE: installs the package with apt when the tool is missing.
apt_updated=0
need() {
    command -v "$1" >/dev/null && return
    echo "installing $2 ..." >&2
    if ((apt_updated == 0)); then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
    apt-get install -y -qq "$2" >/dev/null 2>&1 || {
        echo "bench/run.sh: needs $1 (apt-get install $2)" >&2
        exit 1
    }
}
need /usr/bin/time time # GNU time: peak memory
need jq jq
need curl curl
need python3 python3

data=$root/bench/data
for set in million mixed thousand apply; do
    if [[ ! -f $data/$set/GENERATED ]]; then
        echo "generating bench/data/$set ..." >&2
        python3 bench/generate.py --out "$data" --only "$set"
        # Every generated number must pass campaignctl's own checks.
        "$bin" validate "$data/$set" >/dev/null || {
            echo "bench/run.sh: the generated bench/data/$set does not validate" >&2
            rm -f "$data/$set/GENERATED"
            exit 1
        }
    fi
done

# The re-plan's campaign: the same million rows (row i does not depend on the count) and
# 10,000 more, under the same campaign name.
if [[ ! -f $data/plus/million/GENERATED ]]; then
    echo "generating bench/data/plus ..." >&2
    python3 bench/generate.py --out "$data/plus" --only million --million-count 1010000
fi

load_start=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_start" 'BEGIN{exit !(l > 0.5)}'; then
    echo "warning: load average is $load_start: other work on this machine will slow the runs" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/campaignctl-bench.XXXXXX")
sandbox_pid=
cleanup() {
    if [[ -n $sandbox_pid ]]; then kill "$sandbox_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# timed OUT_PREFIX CMD...: runs CMD under /usr/bin/time -v with stdout to OUT_PREFIX.out;
# sets $wall_ms, $cpu_ms (user + system) and $rss_kb; fails (with its stderr) when CMD exits with anything but 0.
timed() {
    local prefix=$1; shift
    local start end status=0
    start=$(now_ns)
    /usr/bin/time -v -o "$prefix.time" "$@" >"$prefix.out" 2>"$prefix.err" || status=$?
    end=$(now_ns)
    if ((status != 0)); then
        echo "bench/run.sh: '$*' exited $status:" >&2
        tail -n 20 "$prefix.err" >&2
        exit 1
    fi
    wall_ms=$(( (end - start) / 1000000 ))
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$prefix.time")
    cpu_ms=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%d", s * 1000}' "$prefix.time")
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print int((v[NR/2]+v[NR/2+1])/2)}'; }
minimum() { sort -n | head -n1; }
maximum() { sort -n | tail -n1; }

results=()
declare -A wall_median cpu_median
record() { # NAME WALLS CPUS RSSES EXTRA
    local name=$1 walls=$2 cpus=$3 rsses=$4 extra=$5
    local wmed wmin wmax rmed cmed
    wmed=$(tr ' ' '\n' <<<"$walls" | grep . | median)
    wmin=$(tr ' ' '\n' <<<"$walls" | grep . | minimum)
    wmax=$(tr ' ' '\n' <<<"$walls" | grep . | maximum)
    rmed=$(tr ' ' '\n' <<<"$rsses" | grep . | median)
    cmed=$(tr ' ' '\n' <<<"$cpus" | grep . | median)
    wall_median[$name]=$wmed
    cpu_median[$name]=$cmed
    results+=("$(printf '%-22s %4s  %8.3f s  %8.3f s  %8.3f s  %8.3f s  %8.1f MB  %s' \
        "$name" "$runs" \
        "$(awk -v v="$cmed" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$wmed" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$wmin" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$wmax" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$rmed" 'BEGIN{print v/1024}')" "$extra")")
}

bench_plan() { # NAME PATH JQ-CHECK [PLAN-ARGS...]: JQ-CHECK is what the plan's JSON must satisfy
    local name=$1 path=$2 check=$3 i b
    shift 3
    local -A walls cpus rsses
    echo "$name: $runs runs of: campaignctl plan ${*:---json} $path" >&2
    # One untimed run so that every timed run starts with the files in the page cache.
    "$bin" --state "$work/warm.db" plan --json "$path" >/dev/null
    rm -f "$work"/warm.db*
    for ((i = 1; i <= runs; i++)); do
        for b in "${bins[@]}"; do
            local dir=$work/$name-$i
            mkdir -p "$dir"
            if (($#)); then
                timed "$dir/plan" "$b" --state "$dir/state.db" plan "$@" "$dir/saved.plan" "$path"
            else
                timed "$dir/plan" "$b" --state "$dir/state.db" plan --json "$path"
                if ! jq -e "$check" "$dir/plan.out" >/dev/null; then
                    echo "bench/run.sh: the plan of $path is not what the data describes ($check):" >&2
                    jq .summary "$dir/plan.out" >&2
                    exit 1
                fi
            fi
            walls[$b]+="$wall_ms "
            cpus[$b]+="$cpu_ms "
            rsses[$b]+="$rss_kb "
            echo "  run $i ($(label "$b")): $wall_ms ms wall, $cpu_ms ms CPU, $((rss_kb / 1024)) MB" >&2
            rm -rf "$dir"
        done
    done
    for b in "${bins[@]}"; do
        record "$name/$(label "$b")" "${walls[$b]}" "${cpus[$b]}" "${rsses[$b]}" ""
    done
}

# start_sandbox DIR [FAULT...]: a fresh sandbox on a free loopback port; sets $addr.
start_sandbox() {
    local dir=$1 tries f
    shift
    local faults=()
    for f in "$@"; do faults+=(--fault "$f"); done
    # Made here: the sandbox's own redirect may come after the first look below.
    : >"$dir/sandbox.out"
    "$bin" sandbox --listen 127.0.0.1:0 "${faults[@]}" >"$dir/sandbox.out" 2>"$dir/sandbox.err" &
    sandbox_pid=$!
    addr=""
    for ((tries = 0; tries < 100; tries++)); do
        addr=$(sed -n '1s/^listening on //p' "$dir/sandbox.out")
        [[ -n $addr ]] && break
        sleep 0.05
    done
    [[ -n $addr ]] || { echo "bench/run.sh: the sandbox did not start" >&2; cat "$dir/sandbox.err" >&2; exit 1; }
}

stop_sandbox() {
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
    sandbox_pid=
}

# bench_apply NAME PATH PARALLELISM TASKS [FAULT...]: apply of PATH with a fresh state and
# sandbox each run; the sandbox must hold TASKS tasks afterwards.
bench_apply() {
    local name=$1 path=$2 parallelism=$3 expected=$4 i b
    shift 4
    local -A walls cpus rsses rates
    echo "$name: $runs runs of: campaignctl apply $path --auto-approve --parallelism $parallelism --rate 0 (sandbox faults: ${*:-none})" >&2
    export NXCC_ACCESS_KEY=demo NXCC_ACCESS_SECRET=demo
    for ((i = 1; i <= runs; i++)); do
        for b in "${bins[@]}"; do
            local dir=$work/$name-$i
            mkdir -p "$dir"
            start_sandbox "$dir" "$@"
            timed "$dir/apply" "$b" --state "$dir/state.db" apply "$path" --auto-approve \
                --endpoint "$addr" --parallelism "$parallelism" --rate 0
            local tasks
            tasks=$(curl -sf "$addr/_sandbox/tasks" | jq length)
            stop_sandbox
            if [[ $tasks != "$expected" ]]; then
                echo "bench/run.sh: the sandbox accepted $tasks tasks, expected $expected" >&2
                exit 1
            fi
            local rate
            rate=$(awk -v n="$tasks" -v ms="$wall_ms" 'BEGIN{printf "%.0f", n / (ms / 1000)}')
            walls[$b]+="$wall_ms "
            cpus[$b]+="$cpu_ms "
            rsses[$b]+="$rss_kb "
            rates[$b]+="$rate "
            echo "  run $i ($(label "$b")): $wall_ms ms wall, $cpu_ms ms CPU, $((rss_kb / 1024)) MB, $rate requests/s" >&2
            rm -rf "$dir"
        done
    done
    for b in "${bins[@]}"; do
        local rmed
        rmed=$(tr ' ' '\n' <<<"${rates[$b]}" | grep . | median)
        record "$name/$(label "$b")" "${walls[$b]}" "${cpus[$b]}" "${rsses[$b]}" "$rmed req/s"
    done
}

# The 1,000 × 10 set: the apply set's campaigns with the first 10 numbers of each (inside
# the workspace root, which campaign files may not leave).
small_set() {
    local small=bench/data/apply-small
    if [[ ! -d $small ]]; then
        cp -r "$data/apply" "$small"
        local f
        for f in "$small"/data/*.csv; do
            head -n 11 "$f" >"$f.new" && mv "$f.new" "$f"
        done
    fi
    echo "$small"
}

# apply-million and the re-plan that follows each run. The million numbers may be real
# people's: they go only to the sandbox on loopback, and bench/data is never committed.
bench_million() {
    local i b
    local -A walls cpus rsses sizes rwalls rcpus rrsses
    local expected
    expected=$(awk '/^rows/ {print $2}' "$data/million/GENERATED")
    echo "apply-million: $runs runs of: campaignctl apply bench/data/million --auto-approve --parallelism 4 --rate 0, then plan --json bench/data/plus/million" >&2
    export NXCC_ACCESS_KEY=demo NXCC_ACCESS_SECRET=demo
    for ((i = 1; i <= runs; i++)); do
        for b in "${bins[@]}"; do
            local dir=$work/million-$i
            mkdir -p "$dir"
            start_sandbox "$dir"
            timed "$dir/apply" "$b" --state "$dir/state.db" apply bench/data/million \
                --auto-approve --endpoint "$addr" --parallelism 4 --rate 0
            stop_sandbox
            if ! grep -q "Apply finished: $((expected / 10000)) created" "$dir/apply.out"; then
                echo "bench/run.sh: apply-million did not create every part:" >&2
                tail -n 3 "$dir/apply.out" >&2
                exit 1
            fi
            walls[$b]+="$wall_ms "
            cpus[$b]+="$cpu_ms "
            rsses[$b]+="$rss_kb "
            local bytes
            bytes=$(stat -c %s "$dir/state.db")
            sizes[$b]+="$((bytes / expected)) "
            echo "  run $i ($(label "$b")): $wall_ms ms wall, $cpu_ms ms CPU, $((rss_kb / 1024)) MB, state $((bytes / expected)) B/number" >&2
            timed "$dir/replan" "$b" --state "$dir/state.db" plan --json bench/data/plus/million
            jq -e '.summary.numbers == 10000' "$dir/replan.out" >/dev/null || {
                echo "bench/run.sh: the re-plan does not hold exactly the 10,000 new numbers" >&2
                jq .summary "$dir/replan.out" >&2
                exit 1
            }
            rwalls[$b]+="$wall_ms "
            rcpus[$b]+="$cpu_ms "
            rrsses[$b]+="$rss_kb "
            echo "  re-plan ($(label "$b")): $wall_ms ms wall, $cpu_ms ms CPU, $((rss_kb / 1024)) MB" >&2
            rm -rf "$dir"
        done
    done
    for b in "${bins[@]}"; do
        local smed
        smed=$(tr ' ' '\n' <<<"${sizes[$b]}" | grep . | median)
        record "apply-million/$(label "$b")" "${walls[$b]}" "${cpus[$b]}" "${rsses[$b]}" "state $smed B/number"
        record "replan/$(label "$b")" "${rwalls[$b]}" "${rcpus[$b]}" "${rrsses[$b]}" ""
    done
}

million_rows=$(awk '/^rows/ {print $2}' "$data/million/GENERATED")
for b in "${benches[@]}"; do
    case $b in
        plan-million) bench_plan plan-million bench/data/million \
            ".summary.create == $((million_rows / 10000)) and .summary.numbers == $million_rows" ;;
        plan-mixed) bench_plan plan-mixed bench/data/mixed \
            ".summary.numbers + .summary.held == $(awk '/^rows/ {print $2}' "$data/mixed/GENERATED")" ;;
        plan-thousand) bench_plan plan-thousand bench/data/thousand '.summary.create == 1000' ;;
        plan-out) bench_plan plan-out bench/data/million true --out ;;
        apply) bench_apply apply bench/data/apply 16 1000 ;;
        apply-small) bench_apply apply-small "$(small_set)" 16 1000 ;;
        apply-slow) bench_apply apply-slow "$(small_set)" 32 1000 '*=delay:50' ;;
        apply-million) bench_million ;;
    esac
done

load_end=$(cut -d' ' -f1 /proc/loadavg)
echo
echo "load average at start $load_start, at end $load_end (other work on the machine slows wall times)"
echo "campaignctl $("$bin" --version | awk '{print $2}') on $(nproc) cores, $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-22s %4s  %10s  %10s  %10s  %10s  %11s  %s\n' benchmark runs "CPU med" "wall med" "wall min" "wall max" "peak RSS" "throughput"
for r in "${results[@]}"; do echo "$r"; done
if ((${#bins[@]} > 1)); then
    echo
    echo "this build / BEFORE ($BEFORE), medians:"
    for name in "${!wall_median[@]}"; do
        [[ $name == */this ]] || continue
        base=${name%/this}
        [[ -n ${wall_median[$base/before]:-} ]] || continue
        awk -v n="$base" -v w="${wall_median[$name]}" -v wb="${wall_median[$base/before]}" \
            -v c="${cpu_median[$name]}" -v cb="${cpu_median[$base/before]}" \
            'BEGIN{printf "%-16s wall %.2fx  CPU %.2fx\n", n, w / wb, c / cb}'
    done
fi
