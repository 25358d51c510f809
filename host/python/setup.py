"""pip install --no-build-isolation ./host/python

Builds the extension against an installed libedgegrid (`cmake --install`),
found through pkg-config: set PKG_CONFIG_PATH to <prefix>/lib/pkgconfig when
the prefix is not a system one.  The extension links libedgegrid.so.0 and
records its directory as the run path, so no LD_LIBRARY_PATH is needed.
"""
import shlex
import subprocess
import sys

from setuptools import Extension, setup


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "edgegrid"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("edgegrid: pkg-config cannot find libedgegrid (%s); install "
                 "it with `cmake --install build --prefix P` and set "
                 "PKG_CONFIG_PATH=P/lib/pkgconfig" % e)
    return shlex.split(out)


cflags = pkg_config("--cflags")
libs = pkg_config("--libs")
libdirs = [f[2:] for f in libs if f.startswith("-L")]

setup(
    name="edgegrid",
    version="0.1.0",
    description="Reductions of numeric arrays on OpenCL devices and the host",
    packages=["edgegrid"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    ext_modules=[Extension(
        "edgegrid._edgegrid", ["edgegrid/_edgegrid.c"],
        include_dirs=[f[2:] for f in cflags if f.startswith("-I")],
        library_dirs=libdirs, runtime_library_dirs=libdirs,
        libraries=[f[2:] for f in libs if f.startswith("-l")],
        extra_compile_args=["-std=c11", "-Wall", "-Wextra"])],
)
