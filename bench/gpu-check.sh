#!/usr/bin/env bash
# bench/gpu-check.sh - edgegrid on an NVIDIA GPU machine that has the driver
# but no package registry: set up the OpenCL loader from carried .deb files,
# build, run the test suite on the GPU, and measure `edgegrid bench` for f32
# and f64 against the card's host-to-device copy rate, and the
# device-resident figures (eg_reduce_cl_buffer, cl_copy_probe --resident)
# against the card's measured device-memory read rate.
#
#   bench/gpu-check.sh [--size BYTES] [--no-tests] [--device INDEX]
#                      [--driver LIB] [--debs DIR]
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
# Everything it prints is also saved under $OUT (when set, as on the device
# tool, which brings $OUT back) or build-gpu/gpu-check/.
#
# Exit status: 0 when the build, the tests and the benches ran clean; 1
# otherwise (the summary says which step failed); 2 bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
size=1Gi
run_tests=1
gpu=""
driver=""
debs=$here/debs
build=${EDGEGRID_GPU_BUILD:-$src/build-gpu}

say() { echo "gpu-check: $*"; }
die() { echo "gpu-check: $*" >&2; exit 1; }
usage() {
    echo "usage: bench/gpu-check.sh [--size BYTES] [--no-tests] [--device INDEX] [--driver LIB] [--debs DIR]" >&2
    exit 2
}

while (($#)); do
    case $1 in
    --size) (($# > 1)) || usage; size=$2; shift 2 ;;
    --no-tests) run_tests=0; shift ;;
    --device) (($# > 1)) || usage; gpu=$2; shift 2 ;;
    --driver) (($# > 1)) || usage; driver=$2; shift 2 ;;
    --debs) (($# > 1)) || usage; debs=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done

out=${OUT:-$build/gpu-check}
work=$build/gpu-env
prefix=$work/root
multiarch=x86_64-linux-gnu
mkdir -p "$out"

# ---------------------------------------------------------------- tools
missing=()
for tool in cmake make cc ldconfig; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing on this machine: ${missing[*]} (not carried; cmake, make and a C compiler must be there)"
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
if [[ -z $driver ]]; then
    driver=$(ldconfig -p 2>/dev/null |
             awk '/libnvidia-opencl\.so\.1 / { print $NF; exit }')
fi
if [[ -z $driver ]]; then
    for d in /usr/lib/$multiarch /usr/lib64 /usr/lib /usr/local/nvidia/lib64 \
             /usr/lib/$multiarch/nvidia/current /usr/local/cuda/lib64; do
        if [[ -e $d/libnvidia-opencl.so.1 ]]; then
            driver=$d/libnvidia-opencl.so.1
            break
        fi
    done
fi
[[ -n $driver && -e $driver ]] ||
    die "no NVIDIA OpenCL driver library (libnvidia-opencl.so.1) found; is the driver installed? (--driver PATH names one)"
echo "$driver" >"$work/vendors/gpu.icd"
export OCL_ICD_VENDORS=$work/vendors
say "OpenCL driver: $driver"
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
if ! { cmake -S "$src" -B "$build" -DEDGEGRID_WERROR=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_PREFIX_PATH="$prefix/usr" \
        -DPKG_CONFIG_EXECUTABLE="$pkgconfig" \
        -DCMAKE_C_FLAGS="-isystem $prefix/usr/include" \
        -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$work/lib" &&
      cmake --build "$build" -j"$(nproc)"; } >"$out/build.txt" 2>&1; then
    tail -30 "$out/build.txt" >&2
    die "the build failed (log: $out/build.txt)"
fi

edgegrid=$build/edgegrid
"$edgegrid" devices | tee "$out/devices.txt"
if [[ -z $gpu ]]; then
    gpu=$("$edgegrid" devices --json |
          grep -o '"index": [0-9]*, "type": "gpu"' | head -1 |
          grep -o '[0-9][0-9]*' | head -1 || true)
fi
[[ -n $gpu ]] || die "edgegrid sees no GPU (devices: $out/devices.txt, loader: $out/clinfo.txt)"
all=$("$edgegrid" devices --json | grep -o '"index": [0-9]*' |
      grep -o '[0-9][0-9]*' | paste -sd, -)
say "GPU is device $gpu; every device: $all"

# -------------------------------------------------------------- 5. tests
if ((run_tests)); then
    exclude=()
    if ! python3 -c 'import numpy' 2>/dev/null; then
        say "no numpy for python3: the CLI tests (checked against numpy) are left out"
        exclude=(-E '^cli_')
    fi
    say "ctest (the GPU is the only OpenCL device)"
    if ! (cd "$build" && ctest --output-on-failure -LE oclgrind \
            "${exclude[@]}") >"$out/ctest.txt" 2>&1; then
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
    if [[ -z $gpuname ]] || ! XDG_CACHE_HOME=$chk/cache python3 \
            "$src/tests/oclgrind/check.py" "$edgegrid" "$chk" \
            --match "$gpuname" --count 4000077 >"$out/gpu-path.txt" 2>&1; then
        status=1
        failed+=(gpu-path)
    fi
    rm -rf "$chk"
    tail -3 "$out/gpu-path.txt" || true
fi

# ------------------------------------------------------------ 6. benches
copy=""
if "$build/cl_copy_probe" --device "$gpu" --resident | tee "$out/copy.txt" &&
   copy=$("$build/cl_copy_probe" --device "$gpu" -q); then
    copyopt=(--copy-gbps "$copy")
else
    status=1
    failed+=(copy-probe)
    copyopt=()
fi
for t in f32 f64; do
    say "edgegrid bench --dtype $t --size $size"
    if ! "$edgegrid" bench --size "$size" --dtype "$t" --devices "$gpu" \
            --devices all --devices "$all" "${copyopt[@]}" \
            | tee "$out/bench-$t.txt"; then
        status=1
        failed+=("bench-$t")
    fi
done

# ------------------------------------------------------------ summary
echo
say "summary (GB/s of the best device selection; xcopy = over the ${copy:-?} GB/s copy rate)"
grep -E 'read of|resident' "$out/copy.txt" | sed 's/^/  /' || true
for t in f32 f64; do
    [[ -f $out/bench-$t.txt ]] || continue
    grep -E '^(GB/s|sum|l1|dot|fused) .*\|' "$out/bench-$t.txt" | sed "s/^/  $t  /"
done
if ((status)); then
    say "FAILED: ${failed[*]} (logs in $out)"
else
    say "ok (logs in $out)"
fi
exit "$status"
