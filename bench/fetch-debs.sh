#!/usr/bin/env bash
# bench/fetch-debs.sh [DIR] - on a Debian 12 (bookworm, amd64) machine WITH
# the package registry, downloads the .deb files that bench/gpu-check.sh
# needs on a GPU machine without one, into DIR (default bench/debs/, which
# git ignores).  Nothing is installed: `apt-get download` only fetches.
#
# Carry the folder with the working tree (for the device tool:
# carry=["bench/debs"]); gpu-check.sh unpacks the files privately with
# dpkg-deb -x and uses only the libraries that machine lacks.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${1:-$here/debs}

packages=(
    # The OpenCL ICD loader, its headers and clinfo (to see what the loader
    # finds); the NVIDIA driver itself is on the GPU machine.
    ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers clinfo
    # ZeroMQ (the grid; the build needs it) and its run-time libraries.
    libzmq3-dev libzmq5 libsodium23 libpgm-5.3-0 libnorm1 libbsd0 libmd0
    libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2
    libkeyutils1
    # Criterion (the unit tests) and its run-time libraries.
    libcriterion-dev libcriterion3 libgit2-1.5 libnanomsg5 libffi8
    libmbedtls14 libmbedx509-1 libmbedcrypto7 libhttp-parser2.9 libssh2-1
    libpcre2-8-0 libssl3 zlib1g
    # OpenBLAS (the bench's BLAS columns).
    libopenblas-pthread-dev libopenblas0-pthread libgfortran5 libquadmath0
    # pkg-config, for machines without one (CMake needs it for ZeroMQ).
    pkgconf-bin libpkgconf3
    # numpy, for the bench's numpy columns; usable only where python3 is
    # 3.11 (Debian 12), otherwise the bench notes it and skips numpy.
    python3-numpy
)

mkdir -p "$dest"
cd "$dest"
if ! apt-get download "${packages[@]}"; then
    echo "fetch-debs: apt-get download failed; is the package list current?" \
         "(apt-get update), and is this Debian 12 amd64?" >&2
    exit 1
fi
echo "fetch-debs: $(find . -maxdepth 1 -name "*.deb" | wc -l) files, $(du -sh . | cut -f1) in $dest"
