#!/usr/bin/python3
"""libedgegrid.so exports edgegrid.h's functions and nothing else, and a
program that includes only edgegrid.h links against it and reduces.

The header's functions are read here from its prototypes (independently of
the CMake list that builds the version script); the library's from `nm -D`.

usage: check_exports.py HEADER LIBEDGEGRID_SO CC [LINK_FLAG...]
(the flags a program needs to link this build, e.g. its sanitizers)
"""
import os
import re
import subprocess
import sys
import tempfile

header, lib, cc = sys.argv[1:4]
link_flags = [a for a in sys.argv[4:] if a]  # CMake passes "" when none

text = open(header).read()
text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)   # comments name functions too
text = re.sub(r"//[^\n]*", "", text)
text = re.sub(r"^#[^\n]*(\\\n[^\n]*)*", "", text, flags=re.M)
# A prototype: a return type, the name, '(' ... ');' at file scope.
declared = set(re.findall(r"\b(eg_[a-z0-9_]+)\s*\([^;{}]*\)\s*;", text))
declared -= {m for m in re.findall(r"\(\s*\*\s*(eg_[a-z0-9_]+)\s*\)", text)}
assert len(declared) > 30, f"found only {len(declared)} prototypes in {header}"

nm = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                    capture_output=True, text=True).stdout
exported = set()
for line in nm.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "TW":
        exported.add(parts[2].split("@")[0])

missing = sorted(declared - exported)
extra = sorted(exported - declared)
assert not missing, f"declared in edgegrid.h but not exported: {missing}"
assert not extra, f"exported but not in edgegrid.h: {extra}"

# A program of the public header alone, against the shared library.
prog = r"""
#include <stdio.h>
#include "edgegrid.h"
int main(void)
{
    eg_engine *e = NULL;
    eg_error err;
    if (eg_engine_open(&e, "host", &err) != EG_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double x[5] = {1.5, 2.5, -4.0, 8.0, 0.25};
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    eg_result r;
    eg_status st = eg_reduce(e, x, NULL, 5, EG_F64, &o, &r, &err);
    eg_engine_close(&e);
    if (st != EG_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("%.17g\n", r.value[EG_OP_SUM].v.f);
    return 0;
}
"""
with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "p.c")
    exe = os.path.join(d, "p")
    open(src, "w").write(prog)
    libdir = os.path.dirname(os.path.abspath(lib))
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror",
                    "-I", os.path.dirname(os.path.abspath(header)), src,
                    "-o", exe, "-L", libdir, "-l:" + os.path.basename(lib),
                    "-Wl,-rpath," + libdir] + link_flags, check=True)
    out = subprocess.run([exe], check=True, capture_output=True,
                         text=True).stdout
    assert float(out) == 8.25, out
print(f"check_exports: {len(exported)} functions exported, all of edgegrid.h")
