#!/usr/bin/env bash
# tests/fuzz/run.sh - builds every libFuzzer harness tests/fuzz/fuzz_*.c with
# clang (-fsanitize=fuzzer,address,undefined) and runs each for a bounded
# time; exits non-zero if a harness fails to build or finds anything.
#
# Each harness names the sources it needs in its first line:
#     // fuzz-sources: engine/io/npy.c engine/core/error.c engine/core/dtype.c
# (paths from the repository root; the folder of each source is added to the
# include path) and may add `// fuzz-max-len: N` (default 4096).  Seeds come
# from tests/fuzz/corpus/<short>/ (fuzz_npy -> npy) and, when there is a
# tests/fuzz/<short>_seeds.c (a program that writes seeds into the folder it
# is given, built from its own fuzz-sources line or else the harness's), from
# a fresh run of it, so seeds follow the formats of this build.  A
# dictionary comes from tests/fuzz/<short>.dict when present.  The committed
# corpus is never written: each run works on a copy under the build folder.
#
# Environment: FUZZ_SECONDS (per harness, default 20), FUZZ_JOBS (harnesses
# built and run at once, default: CPU count), FUZZ_BUILD (default build-fuzz),
# FUZZ_ONLY (space-separated short names, default all), CC (default clang).
# A finding is kept as $FUZZ_BUILD/<short>/crash-* (or leak-, timeout-,
# oom-); replay it with $FUZZ_BUILD/fuzz_<short> FILE.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
out=${FUZZ_BUILD:-build-fuzz}
cc=${CC:-clang}
if ! command -v "$cc" >/dev/null; then
    echo "fuzz: $cc not found (Debian: apt-get install -y clang)" >&2
    exit 1
fi
mkdir -p "$out"

# The header line of a harness: the words after "// <key>:".
header() {
    sed -n "1,5s|^// $2:[[:space:]]*||p" "$1" | head -n 1
}

# Waits until fewer than $jobs background jobs run.
throttle() {
    while (($(jobs -rp | wc -l) >= jobs)); do
        wait -n || true
    done
}

# Builds one harness (and its seed writer) into $out; the compiler's output
# goes to $out/<short>.build.log and its exit status to $out/<short>.built.
build_one() {
    local src=$1 sources=$2 name short seeds own rc=0
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    # every room of the engine, as its own build has them (engine/CMakeLists.txt)
    local includes=(-I engine/include)
    for room in engine/*/ engine/backend/*/; do
        includes+=(-I "$room")
    done
    # kernels/ holds twosum.h, shared by the lanes and the OpenCL kernels
    includes+=(-I kernels)
    for s in $sources; do
        includes+=(-I "$(dirname "$s")")
    done
    {
        # shellcheck disable=SC2086 # $sources is a word list on purpose
        "$cc" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off \
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
            "${includes[@]}" "$src" $sources -lm -lpthread -o "$out/$name" &&
            seeds=tests/fuzz/${short}_seeds.c &&
            if [[ -f "$seeds" ]]; then
                own=$(header "$seeds" fuzz-sources)
                for s in $own; do
                    includes+=(-I "$(dirname "$s")")
                done
                # shellcheck disable=SC2086
                "$cc" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L \
                    -ffp-contract=off -fsanitize=address,undefined \
                    -fno-sanitize-recover=all "${includes[@]}" "$seeds" \
                    ${own:-$sources} -lm -lpthread -o "$out/${short}_seeds"
            fi
    } >"$out/$short.build.log" 2>&1 || rc=$?
    echo "$rc" >"$out/$short.built"
}

# The harnesses build $jobs at a time (each is one clang run over its
# sources; one after another they took most of the step's time).
candidates=()
broken=()
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    if [[ -n "${FUZZ_ONLY:-}" && " $FUZZ_ONLY " != *" $short "* ]]; then
        continue
    fi
    sources=$(header "$src" fuzz-sources)
    if [[ -z "$sources" ]]; then
        # a harness that silently never runs would rot: fail, run the rest
        broken+=("fuzz: $name: FAILED: no '// fuzz-sources:' line in $src")
        continue
    fi
    echo "fuzz: building $name"
    throttle
    rm -f "$out/$short.built"
    build_one "$src" "$sources" &
    candidates+=("$short")
done
wait
harnesses=()
for short in "${candidates[@]}"; do
    if [[ "$(cat "$out/$short.built" 2>/dev/null)" == 0 ]]; then
        harnesses+=("$short")
    else
        broken+=("fuzz: fuzz_$short: FAILED to build (exit $(cat "$out/$short.built" 2>/dev/null)):
$(sed 's/^/    /' "$out/$short.build.log")")
    fi
done

# One harness: a fresh copy of its seeds, a bounded run, the last stats.
run_one() {
    local short=$1 name=fuzz_$1 src=tests/fuzz/fuzz_$1.c
    local work=$out/$short max_len dict=()
    rm -rf "$work"
    mkdir -p "$work/corpus"
    if [[ -d tests/fuzz/corpus/$short ]]; then
        cp tests/fuzz/corpus/"$short"/* "$work/corpus/" 2>/dev/null || true
    fi
    if [[ -x "$out/${short}_seeds" ]] &&
        ! "$out/${short}_seeds" "$work/corpus" >"$work/seeds.log" 2>&1; then
        echo "fuzz: $name: ${short}_seeds failed:"
        sed 's/^/    /' "$work/seeds.log"
        echo 1 >"$out/$short.rc"
        return 1
    fi
    max_len=$(header "$src" fuzz-max-len)
    [[ -f tests/fuzz/$short.dict ]] && dict=(-dict="tests/fuzz/$short.dict")
    local rc=0
    "$out/$name" -max_total_time="$seconds" -max_len="${max_len:-4096}" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "${dict[@]}" "$work/corpus" \
        >"$work/log" 2>&1 || rc=$?
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    cov=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -n 1 |
        sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [0-9]+\/[^ ]+).*/\1/')
    if ((rc == 0)); then
        echo "fuzz: $name: ${execs:-?} executions in ${seconds} s, ${cov:-no stats}, no findings"
    else
        echo "fuzz: $name: FAILED (exit $rc) after ${execs:-?} executions; log $work/log:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==' \
            "$work/log" | head -n 20 | sed 's/^/    /'
    fi
    echo "$rc" >"$out/$short.rc"
}

echo "fuzz: running ${#harnesses[@]} harnesses for $seconds s each, $jobs at a time"
for short in "${harnesses[@]}"; do
    throttle
    rm -f "$out/$short.rc"
    run_one "$short" >"$out/$short.summary" &
done
wait
status=0
for line in "${broken[@]}"; do
    echo "$line"
    status=1
done
for short in "${harnesses[@]}"; do
    cat "$out/$short.summary"
    [[ "$(cat "$out/$short.rc" 2>/dev/null)" == 0 ]] || status=1
done
exit "$status"
