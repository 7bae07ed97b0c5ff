#!/usr/bin/env bash
# numpy 1.24.2 for the WASI interpreter (issue 21, first step): numpy's C extension modules
# compiled for wasm32-wasi with the interpreter's toolchain and linked into python.wasm as
# built-in modules, plus numpy's Python files as a zip for the interpreter's file image.
#
#   wasm/build-numpy.sh NUMPY_SOURCE [OUTDIR]     (default OUTDIR: /tmp/wasmdeploy-numpy)
#
# NUMPY_SOURCE: numpy 1.24.2's source tree or a tarball of it. Debian's source package is the
# intended origin (`apt-get source numpy`), but its pristine tarball answers 404 from this
# machine's mirror (see docs/architecture.md, "numpy"); upstream's v1.24.2 tag has the same
# files. The tree is checked against a hash of every file's contents before anything is built.
#
# How: numpy's own build (setup.py, numpy.distutils) runs on the host's CPython 3.11 with the
# WASI interpreter's sysconfig (_PYTHON_SYSCONFIGDATA_NAME), so its configuration checks, code
# generators and compiler flags are numpy's; only the last step of each extension, the link of
# a shared library (which wasm32-wasi does not have), is replaced by a recorder. The recorded
# objects are then linked with libpython into one module, and a generated C file registers each
# extension (numpy.core._multiarray_umath, numpy.random.mtrand, ...) with PyImport_AppendInittab
# before Python starts (it wraps Py_InitializeFromConfig at link time, so wasmdeploy.c is the
# same with or without numpy).
#
# Needs: wasm/build-python.sh run first (its configured tree and objects under wasm/.build),
# and Debian's cython3, libc++-14-dev-wasm32 and libc++abi-14-dev-wasm32.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WASMDEPLOY_WASM_WORK:-$HERE/.build}
OUT=$(mkdir -p "${2:-/tmp/wasmdeploy-numpy}" && cd "${2:-/tmp/wasmdeploy-numpy}" && pwd)
NUMPY_TREE_SHA256=bd674ac16ff7c90ef789db841f30eab1b31c03b8da2a648077fc9def8b7b051f
export SOURCE_DATE_EPOCH=1675814400 LC_ALL=C TZ=UTC

missing=()
for pkg in cython3 libc++-14-dev-wasm32 libc++abi-14-dev-wasm32; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# --- the interpreter's build (the same settings as build-python.sh's defaults) ---
CONF_TAG=$(printf '%s|%s|%s' "${WASMDEPLOY_OPT--O2}" "${WASMDEPLOY_LTO--flto}" "${WASMDEPLOY_PYMALLOC-yes}" | sha256sum | cut -c1-8)
PY=$WORK/Python-3.11.2
B=$PY/builddir/wasi-$CONF_TAG
OBJ=$WORK/obj-$CONF_TAG
SHIM=$WORK/toolshim
for f in "$B/libpython3.11.a" "$OBJ/wasmdeploy.o" "$SHIM/wasm-opt"; do
  [ -e "$f" ] || { echo "build-numpy: $f is missing: run wasm/build-python.sh first" >&2; exit 1; }
done
SYSCONFIG_DIR=$(dirname "$(ls "$B"/build/lib.*/_sysconfigdata_*.py)")
SYSCONFIG_NAME=$(basename "$(ls "$B"/build/lib.*/_sysconfigdata_*.py)" .py)
CC="clang --target=wasm32-unknown-wasi -B$SHIM"

# --- source ---
NP=$WORK/numpy-1.24.2
rm -rf "$NP"
mkdir -p "$NP"
if [ -d "${1:?usage: wasm/build-numpy.sh NUMPY_SOURCE [OUTDIR]}" ]; then
  cp -a "$1/." "$NP/"
else
  tar -xf "$1" -C "$NP" --strip-components=1
fi
got=$(cd "$NP" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$got" != "$NUMPY_TREE_SHA256" ]; then
  echo "build-numpy: $1 is not numpy 1.24.2's source (tree hash $got)" >&2
  exit 1
fi
# wasi.patch: wasm32 is a CPU numpy knows (npy_cpu.h checked only __EMSCRIPTEN__); the
# test-only extension modules are left out (NPY_WASMDEPLOY), and _add_newdocs.py, which imports
# one of them (_multiarray_tests) to document it, skips that on WASI.
patch -d "$NP" -p1 --quiet --no-backup-if-mismatch <"$HERE/patches/numpy/wasi.patch"

# --- numpy's build, up to (not including) each extension's link ---
LINKS=$WORK/numpy-links.txt
rm -f "$LINKS"
cat >"$WORK/numpy-ldshared.sh" <<'REC'
#!/bin/sh
# Records what numpy's build would link into an extension module instead of linking it.
out=""; objs=""; prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && out="$a"
  case "$a" in *.o) objs="$objs $(realpath "$a")";; esac
  prev="$a"
done
echo "$out:$objs" >>"$NUMPY_LINKS"
: >"$out"
REC
chmod +x "$WORK/numpy-ldshared.sh"
# NPY_NO_SIGNAL/__NPY_PRIVATE_NO_SIGNAL: no setjmp in wasm32-wasi (numpy's SIGINT handling in
# long loops is off; deadlines still interrupt at the next bytecode). restrict: CPython 3.11's
# pthread_stubs.h uses C's `restrict`, which C++ (numpy's sort and linalg code) does not have.
(cd "$NP" && env -i PATH="$PATH" HOME="$WORK" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" LC_ALL=C TZ=UTC \
  SETUPTOOLS_USE_DISTUTILS=stdlib _PYTHON_SYSCONFIGDATA_NAME="$SYSCONFIG_NAME" _PYTHON_HOST_PLATFORM=wasi-wasm32 \
  PYTHONPATH="$SYSCONFIG_DIR:/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
  CC="$CC" CXX="clang++ --target=wasm32-unknown-wasi -B$SHIM -fno-exceptions" \
  CFLAGS="-I$PY/Include -I$B -ffile-prefix-map=$NP=/numpy -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS -DNPY_NO_SIGNAL -D__NPY_PRIVATE_NO_SIGNAL -Drestrict=__restrict" \
  LDSHARED="$WORK/numpy-ldshared.sh" NUMPY_LINKS="$LINKS" \
  NPY_WASMDEPLOY=1 NPY_BLAS_ORDER= NPY_LAPACK_ORDER= NPY_DISABLE_SVML=1 BLAS=None LAPACK=None ATLAS=None \
  /usr/bin/python3.11 setup.py build --disable-optimization -j 1 >&2)

# --- the built-in module table ---
TEMP=$(ls -d "$NP"/build/temp.*)
LIB=$(ls -d "$NP"/build/lib.*)
/usr/bin/python3.11 - "$LINKS" "$WORK/numpy_inittab.c" <<'GEN'
import sys
links, out = sys.argv[1], sys.argv[2]
mods = []
for line in open(links):
    path = line.split(":", 1)[0]
    rel = path.split("/build/lib.", 1)[1].split("/", 1)[1] if "/build/lib." in path else path.split("build/lib.", 1)[1].split("/", 1)[1]
    mods.append(rel.split(".cpython", 1)[0].replace("/", "."))
mods.sort()
lines = ["/* Generated by wasm/build-numpy.sh: numpy's extension modules as built-in modules. */", '#include "Python.h"']
lines += [f"extern PyObject *PyInit_{m.rsplit('.', 1)[1]}(void);" for m in mods]
lines += [
    "PyStatus __real_Py_InitializeFromConfig(const PyConfig *config);",
    "/* wd_init calls Py_InitializeFromConfig; this link wraps it (-Wl,--wrap) to register numpy's modules first. */",
    "PyStatus __wrap_Py_InitializeFromConfig(const PyConfig *config) {",
]
lines += [f'    if (PyImport_AppendInittab("{m}", PyInit_{m.rsplit(".", 1)[1]}) < 0) return PyStatus_NoMemory();' for m in mods]
lines += ["    return __real_Py_InitializeFromConfig(config);", "}"]
open(out, "w").write("\n".join(lines) + "\n")
GEN
$CC -O2 -flto -I"$PY/Include" -I"$B" -c "$WORK/numpy_inittab.c" -o "$WORK/numpy_inittab.o"

# --- python.wasm with numpy ---
mapfile -t OBJS < <(awk -F: '{print $2}' "$LINKS" | tr ' ' '\n' | grep '\.o$' | sort -u)
$CC -mexec-model=reactor -O2 -flto -Wl,--lto-O2 -Wl,-z,stack-size=8388608 -Wl,--stack-first -Wl,--import-memory \
  -o "$WORK/python-numpy-full.wasm" "$OBJ/wasmdeploy.o" "$WORK/numpy_inittab.o" "${OBJS[@]}" \
  "$TEMP/libnpyrandom.a" "$TEMP/libnpymath.a" \
  "$B/libpython3.11.a" "$B/Modules/_decimal/libmpdec/libmpdec.a" "$B/Modules/expat/libexpat.a" \
  -Wl,--wrap=sbrk -Wl,--wrap=Py_InitializeFromConfig -lc++ -lc++abi -lc-printscan-long-double \
  -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm
/usr/bin/wasm-opt -O3 "$WORK/python-numpy-full.wasm" -o "$WORK/python-numpy-opt.wasm"
llvm-strip -o "$OUT/python.wasm" "$WORK/python-numpy-opt.wasm"

# --- the standard library zip with numpy's Python files added (no tests, no build tools) ---
rm -f "$OUT/stdlib.zip"
/usr/bin/python3.11 - "$LIB" "$OUT/stdlib.zip" "$HERE/stdlib.zip" <<'ZIP'
import os, sys, zipfile
lib, out, stdlib = sys.argv[1], sys.argv[2], sys.argv[3]
skip_dirs = {"tests", "distutils", "f2py", "_pyinstaller", "typing"}
files = []
for root, dirs, names in os.walk(os.path.join(lib, "numpy")):
    dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
    for n in names:
        if n.endswith(".py") and n not in ("setup.py", "conftest.py"):
            full = os.path.join(root, n)
            files.append((os.path.relpath(full, lib), full))
entries = {arc: open(full, "rb").read() for arc, full in files}
with zipfile.ZipFile(stdlib) as z:
    for name in z.namelist():
        entries.setdefault(name, z.read(name))
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for arc in sorted(entries):
        info = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.create_system = 3
        z.writestr(info, entries[arc])
ZIP
ls -l "$OUT/python.wasm" "$OUT/stdlib.zip" >&2
echo "try it: WASMDEPLOY_PYTHON_WASM=$OUT/python.wasm WASMDEPLOY_STDLIB_ZIP=$OUT/stdlib.zip node ..." >&2
