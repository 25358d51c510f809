#!/usr/bin/env bash
# tests/oclgrind/run.sh [EDGEGRID [TEST_OPENCL [TEST_EXACT]]] - the GPU
# path on a simulated GPU (EDGEGRID: the built program, default
# build/edgegrid; TEST_OPENCL: the built tests/test_opencl, whose
# device-resident cases, eg_reduce_cl_buffer, then run on Oclgrind too;
# TEST_EXACT: the built tests/test_exact, whose case of the portable exact
# kernel, every path of it, against the host's words, runs there too).
#
# Oclgrind (Debian package oclgrind) presents itself as a GPU with its own
# memory, so edgegrid drives it as it drives a real one: the portable
# kernels, the copy path.  Every run goes through its memory checker (on by
# default) and its data-race checker; its --uninitialized checker is left
# off (it faults on our kernels, an Oclgrind bug).  check.py asserts the
# host's bits, that the Oclgrind device reduced every element, and that
# nothing was written to stderr (no notes, no fallback, no Oclgrind
# diagnostic).  Exit 0 pass, 1 fail, 77 skipped (no Oclgrind here).
set -euo pipefail
edgegrid=$(realpath "${1:-build/edgegrid}")
lib=${OCLGRIND_ICD:-/usr/lib/oclgrind/liboclgrind-rt-icd.so}
if [[ ! -e $lib ]]; then
    echo "oclgrind: $lib not found (apt-get install oclgrind); skipped"
    exit 77
fi
work=$(mktemp -d /tmp/eg_oclgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT
# An ICD vendor directory holding Oclgrind alone: the only OpenCL device.
mkdir -p "$work/icd"
echo "$lib" >"$work/icd/oclgrind.icd"
export OCL_ICD_VENDORS=$work/icd
export OCLGRIND_DATA_RACES=1
export OCLGRIND_CHECK_API=1
# Kernels are cached per run of this script: built once, then loaded.
export XDG_CACHE_HOME=$work/cache
unset EDGEGRID_DEVICES POCL_DEVICES
status=0
# Exact mode at two chunk sizes (several calls; one chunk for the whole
# input): its portable kernel, a lane a work-group, is the slowest to
# simulate; a real GPU (bench/gpu-check.sh) takes all three.
/usr/bin/python3 "$(dirname "$0")/check.py" "$edgegrid" "$work" \
    --exact-chunks 16384,1048576 || status=1
# A Criterion test binary's cases under Oclgrind: $1 the binary, $2 the
# filter.  Oclgrind reports what its checkers find on stderr and carries
# on: any such report fails the step, as a failing case does.
criterion_cases() {
    local log
    log=$work/$(basename "$1").txt
    echo "oclgrind: $(basename "$1") --filter '$2'"
    if ! "$1" --filter "$2" >"$log" 2>&1; then
        status=1
    fi
    if grep -Eiq 'invalid (read|write)|data race|out-of-bounds|uninitiali[sz]ed' \
        "$log"; then
        echo "oclgrind: its checkers reported:"
        status=1
    fi
    tail -5 "$log"
}
if [[ -n ${2:-} ]]; then
    criterion_cases "$2" 'opencl_resident/*'
fi
if [[ -n ${3:-} ]]; then
    # The portable exact kernel's every path: guessed plans, plans cut
    # again on more levels, lanes without a guess, careful lanes.
    criterion_cases "$3" 'exact/portable_kernel_takes_a_lane_per_work_group'
fi
exit "$status"
