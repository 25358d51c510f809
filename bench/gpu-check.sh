#!/usr/bin/env bash
# bench/gpu-check.sh - edgegrid on an NVIDIA GPU machine that has the driver
# but no package registry: set up the OpenCL loader from carried .deb files,
# build, run the test suite on the GPU, and measure `edgegrid bench` for f32
# and f64 against the card's host-to-device copy rate, and the
# device-resident figures (eg_reduce_cl_buffer, cl_copy_probe --resident)
# against the card's measured device-memory read rate.  Sized to run once
# in about 8 minutes on a 16-core GPU machine (each step has a time limit,
# so one that hangs cannot eat the machine's lease).
#
#   bench/gpu-check.sh [--size BYTES] [--tests gpu|full|none] [--no-tests]
#                      [--device INDEX] [--driver LIB] [--debs DIR]
#                      [--dry-run]
#
# --tests gpu (default): the tests that drive OpenCL devices (test_opencl,
# test_exact, test_engine, test_faults, the device CLI tests, the bench
# smoke tests); full: the whole suite but Oclgrind's; none (--no-tests).
# --dry-run checks the script's logic on a machine without a GPU: the
# OpenCL platforms it already has (no driver search), the first OpenCL
# device whatever its type, 64 MiB, the GPU-path check on that device.
#
# Before: on a machine WITH the Debian 12 registry run bench/fetch-debs.sh,
# then carry bench/debs/ along with the working tree (device tool:
# carry=["bench/debs"]).  The GPU machine needs bash, cmake, make, a C
# compiler, ldconfig, and dpkg-deb or ar+tar; these are not carried.
# python3 is optional (CLI tests, numpy columns).
#
# What it does:
#   1. unpacks every bench/debs/*.deb into a private folder (dpkg-deb -x);
#      a folder of links exposes only the libraries this machine lacks,
#      plus the ICD loader libOpenCL.so.1, so nothing of the system is
#      shadowed;
#   2. writes an ICD file naming the driver's libnvidia-opencl.so.1 (found
#      with ldconfig -p, else in the usual folders) and points the loader at
#      it with OCL_ICD_VENDORS;
#   3. builds into build-gpu/ against the carried headers and .pc files;
#   4. runs the whole ctest suite with the GPU's ICD the only OpenCL
#      platform: the kernel-word tests (test_opencl, test_exact) run on
#      every OpenCL device present, so on the GPU, and test_engine's
#      "opencl" runs too; the tests that need POCL skip.  (EDGEGRID_DEVICES
#      would test nothing: the tests pick their devices themselves.)  Then
#      tests/oclgrind/check.py --match <GPU name>: every op, f32/f64/i32,
#      fast and exact, three chunk sizes, on the GPU alone, asserting the
#      host's bits, that the GPU reduced every element and that nothing was
#      written to stderr (no note, no fallback);
#   5. measures the copy rate (build-gpu/cl_copy_probe) and runs
#      `edgegrid bench --copy-gbps RATE` for f32 and f64; the xcopy column is
#      the GB/s of a reduction over the copy rate (the goal: >= 0.85).
#   6. bench/gpu_summary.py turns the JSON figures into the Markdown table
#      of the README's GPU section (summary.md), goals marked.
# Everything it prints is also saved under build-gpu/gpu-check/; with $OUT
# set (the device tool brings back at most 8 files) $OUT gets summary.md
# and gpu-check-logs.tar.gz, every log and JSON file.
#
# Exit status: 0 when the build, the tests and the benches ran clean; 1
# otherwise (the summary says which step failed); 2 bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
size=1Gi
tests=gpu
dry=0
gpu=""
driver=""
debs=$here/debs
build=${EDGEGRID_GPU_BUILD:-$src/build-gpu}

say() { echo "gpu-check: $*"; }
die() { echo "gpu-check: $*" >&2; exit 1; }
usage() {
    echo "usage: bench/gpu-check.sh [--size BYTES] [--tests gpu|full|none] [--no-tests] [--device INDEX] [--driver LIB] [--debs DIR] [--dry-run]" >&2
    exit 2
}

while (($#)); do
    case $1 in
    --size) (($# > 1)) || usage; size=$2; shift 2 ;;
    --no-tests) tests=none; shift ;;
    --tests) (($# > 1)) || usage; tests=$2; shift 2 ;;
    --dry-run) dry=1; size=64Mi; shift ;;
    --device) (($# > 1)) || usage; gpu=$2; shift 2 ;;
    --driver) (($# > 1)) || usage; driver=$2; shift 2 ;;
    --debs) (($# > 1)) || usage; debs=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done

case $tests in gpu | full | none) ;; *) usage ;; esac
out=$build/gpu-check
work=$build/gpu-env
prefix=$work/root
multiarch=x86_64-linux-gnu
rm -rf "$out"
mkdir -p "$out"
t_start=$SECONDS
# Runs "$@" for at most $1 seconds (timeout, when this machine has it).
limit() {
    local s=$1
    shift
    if command -v timeout >/dev/null 2>&1; then
        timeout --kill-after=10 "$s" "$@"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------- tools
missing=()
for tool in cmake cc ldconfig; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
generator=()
if ! command -v make >/dev/null 2>&1; then
    if command -v ninja >/dev/null 2>&1; then
        generator=(-G Ninja)
    else
        missing+=("make or ninja")
    fi
fi
if ((${#missing[@]})); then
    die "missing on this machine: ${missing[*]} (not carried; cmake, make or ninja and a C compiler must be there)"
fi

# ------------------------------------------------------- 1. carried .debs
unpack() {
    if command -v dpkg-deb >/dev/null 2>&1; then
        dpkg-deb -x "$1" "$prefix"
        return
    fi
    # A .deb is an ar archive; its files are in data.tar.{xz,zst,gz}.
    local member flag=""
    member=$(ar t "$1" | grep '^data\.tar')
    case $member in
    *.xz) flag=-J ;;
    *.zst) flag=--zstd ;;
    *.gz) flag=-z ;;
    esac
    ar p "$1" "$member" | tar -x $flag -C "$prefix" -f -
}

rm -rf "$work"
mkdir -p "$prefix" "$work/lib" "$work/vendors"
shopt -s nullglob
debfiles=("$debs"/*.deb)
shopt -u nullglob
if ((${#debfiles[@]} == 0)); then
    say "no .deb files in $debs: using only what this machine has (see bench/fetch-debs.sh)"
fi
for deb in "${debfiles[@]}"; do
    unpack "$deb"
done
say "unpacked ${#debfiles[@]} .deb files into $prefix"

# Only sonames the system lacks, so no system library is shadowed; the ICD
# loader always, because OCL_ICD_VENDORS is ocl-icd's.
have_soname() { ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$1 "; }
for dir in "$prefix/usr/lib/$multiarch" "$prefix/lib/$multiarch" \
           "$prefix/usr/lib/$multiarch/openblas-pthread"; do
    [[ -d $dir ]] || continue
    for lib in "$dir"/lib*.so.*; do
        name=${lib##*/}
        [[ $name =~ ^lib.*\.so\.[0-9]+$ ]] || continue
        if [[ $name == libOpenCL.so.1 ]] || ! have_soname "$name"; then
            ln -sf "$lib" "$work/lib/$name"
        fi
    done
done
export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---------------------------------------------------------------- 2. ICD
if ((dry)) && [[ -z $driver ]]; then
    say "dry run: the OpenCL platforms this machine has (${OCL_ICD_VENDORS:-/etc/OpenCL/vendors})"
elif [[ -z $driver ]]; then
    driver=$(ldconfig -p 2>/dev/null |
             awk '/libnvidia-opencl\.so\.1 / { print $NF; exit }')
fi
if [[ -z $driver ]]; then
    for d in /usr/lib/$multiarch /usr/lib64 /usr/lib /usr/local/nvidia/lib64 \
             /usr/local/nvidia/lib \
             /usr/lib/$multiarch/nvidia/current /usr/local/cuda/lib64; do
        if [[ -e $d/libnvidia-opencl.so.1 ]]; then
            driver=$d/libnvidia-opencl.so.1
            break
        fi
    done
fi
if ! ((dry)) || [[ -n $driver ]]; then
    [[ -n $driver && -e $driver ]] ||
        die "no NVIDIA OpenCL driver library (libnvidia-opencl.so.1) found; is the driver installed? (--driver PATH names one)"
    echo "$driver" >"$work/vendors/gpu.icd"
    export OCL_ICD_VENDORS=$work/vendors
    say "OpenCL driver: $driver"
fi
if [[ -x $prefix/usr/bin/clinfo ]]; then
    "$prefix/usr/bin/clinfo" -l >"$out/clinfo.txt" 2>&1 || true
fi

# -------------------------------------------------------- 3. pkg-config
# The carried .pc files say prefix=/usr; point them at the private copy.
while IFS= read -r -d '' pc; do
    sed -i -e "s|^prefix=/usr|prefix=$prefix/usr|" \
           -e "s|^libdir=/usr|libdir=$prefix/usr|" \
           -e "s|^includedir=/usr|includedir=$prefix/usr|" "$pc"
done < <(find "$prefix" -name '*.pc' -print0)
# libzmq.pc names its dependencies' .pc files for static links only;
# dropping the line spares carrying five more -dev packages.
zmqpc=$prefix/usr/lib/$multiarch/pkgconfig/libzmq.pc
[[ ! -f $zmqpc ]] || sed -i '/^Requires.private:/d' "$zmqpc"
export PKG_CONFIG_PATH="$prefix/usr/lib/$multiarch/pkgconfig:$prefix/usr/lib/$multiarch/openblas-pthread/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkgconfig=$(command -v pkg-config || command -v pkgconf || true)
if [[ -z $pkgconfig && -x $prefix/usr/bin/pkgconf ]]; then
    pkgconfig=$prefix/usr/bin/pkgconf
fi
[[ -n $pkgconfig ]] || die "no pkg-config here: carry pkgconf-bin and libpkgconf3 (bench/fetch-debs.sh)"

# numpy: the system's, else the carried one when it fits this python3.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import numpy' 2>/dev/null &&
   PYTHONPATH=$prefix/usr/lib/python3/dist-packages python3 -c 'import numpy' 2>/dev/null; then
    export PYTHONPATH="$prefix/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}"
fi

# -------------------------------------------------------------- 4. build
status=0
failed=()
say "building into $build"
# No -Werror here: another compiler's new warnings are not what this checks.
if ! { limit 420 cmake -S "$src" -B "$build" "${generator[@]}" -DEDGEGRID_WERROR=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_PREFIX_PATH="$prefix/usr" \
        -DPKG_CONFIG_EXECUTABLE="$pkgconfig" \
        -DCMAKE_C_FLAGS="-isystem $prefix/usr/include" \
        -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$work/lib" &&
      limit 420 cmake --build "$build" -j"$(nproc)"; } >"$out/build.txt" 2>&1; then
    tail -30 "$out/build.txt" >&2
    die "the build failed (log: $out/build.txt)"
fi
say "built in $((SECONDS - t_start)) s"

edgegrid=$build/edgegrid
"$edgegrid" devices | tee "$out/devices.txt"
if [[ -z $gpu ]]; then
    # The first GPU, or in a dry run the first OpenCL device of any type.
    kind='"gpu"'
    ((dry)) && kind='"[a-z]*"'
    gpu=$("$edgegrid" devices --json |
          grep -o "\"index\": [0-9]*, \"type\": $kind" | grep -v '"host"' |
          head -1 | grep -o '[0-9][0-9]*' | head -1 || true)
fi
[[ -n $gpu ]] || die "edgegrid sees no GPU (devices: $out/devices.txt, loader: $out/clinfo.txt)"
all=$("$edgegrid" devices --json | grep -o '"index": [0-9]*' |
      grep -o '[0-9][0-9]*' | paste -sd, -)
say "GPU is device $gpu; every device: $all"

# -------------------------------------------------------------- 5. tests
have_numpy=0
command -v python3 >/dev/null 2>&1 && python3 -c 'import numpy' 2>/dev/null &&
    have_numpy=1
if [[ $tests != none ]]; then
    select=()
    if [[ $tests == gpu ]]; then
        select=(-R '^(test_opencl|test_exact|test_engine|test_faults|cli_test_devices|cli_test_exact|cli_test_multi_device|cli_test_reduce_numpy|bench_smoke|bench_smoke_exact|bench_resident_smoke)$')
    fi
    exclude=()
    if ((!have_numpy)); then
        say "no numpy for python3: the CLI tests (checked against numpy) are left out"
        exclude=(-E '^cli_')
    fi
    say "ctest --tests $tests (the GPU is the only OpenCL device)"
    if ! (cd "$build" && limit 330 ctest --output-on-failure -LE oclgrind \
            -j4 --timeout 300 "${select[@]}" "${exclude[@]}") \
            >"$out/ctest.txt" 2>&1; then
        status=1
        failed+=(tests)
    fi
    grep -E 'tests passed|tests failed|Failed|Skipped|\*\*\*' "$out/ctest.txt" || true
    gpuname=""
    command -v python3 >/dev/null 2>&1 || say "no python3: the GPU-path check cannot run"
    gpuname=$("$edgegrid" devices --json | python3 -c '
import json, sys
d = [d for d in json.load(sys.stdin)["devices"] if d["index"] == int(sys.argv[1])]
print(d[0]["name"])' "$gpu" 2>/dev/null || true)
    say "the GPU does the work: tests/oclgrind/check.py --match \"$gpuname\""
    chk=$(mktemp -d)
    anytype=()
    ((dry)) && anytype=(--any-type 1)
    if [[ -z $gpuname ]] || ! XDG_CACHE_HOME=$chk/cache limit 240 python3 \
            "$src/tests/oclgrind/check.py" "$edgegrid" "$chk" \
            --match "$gpuname" --count 4000077 "${anytype[@]}" \
            >"$out/gpu-path.txt" 2>&1; then
        status=1
        failed+=(gpu-path)
    fi
    rm -rf "$chk"
    tail -3 "$out/gpu-path.txt" || true
    say "tests done at $((SECONDS - t_start)) s"
fi

# ------------------------------------------------------------ 6. benches
copy=""
if limit 120 "$build/cl_copy_probe" --device "$gpu" --resident | tee "$out/copy-resident.txt" &&
   copy=$(limit 60 "$build/cl_copy_probe" --device "$gpu" -q) && [[ -n $copy ]]; then
    echo "$copy" >"$out/copy.txt"
    copyopt=(--copy-gbps "$copy")
else
    status=1
    failed+=(copy-probe)
    copyopt=()
fi
for t in f32 f64; do
    # Data in device memory (eg_reduce_cl_buffer) beside host memory on the
    # same device, over the read probe; fast, then exact.
    for mode in fast exact; do
        ops=sum,min,max,l1,fused
        [[ $mode == exact ]] && ops=sum,l1,fused
        say "edgegrid bench --resident --dtype $t --mode $mode --size $size"
        if ! limit 120 "$edgegrid" bench --resident --json --size "$size" \
                --dtype "$t" --mode "$mode" --ops "$ops" \
                >"$out/resident-$t-$mode.json" 2>"$out/resident-$t-$mode.err"; then
            cat "$out/resident-$t-$mode.err" >&2
            status=1
            failed+=("resident-$t-$mode")
        fi
    done
    # Host memory: the GPU alone, the host alone, every device together.
    say "edgegrid bench --dtype $t --size $size"
    if ! limit 240 "$edgegrid" bench --json --size "$size" --dtype "$t" \
            --ops sum,l1,fused --reps 3 --devices "$gpu" --devices host \
            --devices all "${copyopt[@]}" >"$out/bench-$t.json" \
            2>"$out/bench-$t.err"; then
        cat "$out/bench-$t.err" >&2
        status=1
        failed+=("bench-$t")
    fi
done

# ------------------------------------------------------------ summary
echo
if command -v python3 >/dev/null 2>&1; then
    python3 "$here/gpu_summary.py" "$out" | tee "$out/summary.md" || true
else
    say "no python3: no summary table (the JSON files are in $out)"
fi
say "$((SECONDS - t_start)) s in all"
if ((status)); then
    say "FAILED: ${failed[*]} (logs in $out)"
else
    say "ok (logs in $out)"
fi
if [[ -n ${OUT:-} ]]; then
    # The device tool brings back a few files: the table and one archive.
    [[ ! -f $out/summary.md ]] || cp "$out/summary.md" "$OUT/summary.md"
    tar -czf "$OUT/gpu-check-logs.tar.gz" -C "$(dirname "$out")" "$(basename "$out")" || true
fi
exit "$status"
